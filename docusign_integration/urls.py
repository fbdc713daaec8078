"""DocuSign's redirects back to the portal (OAuth callback) and the Connect listener."""

app_name = "docusign"
urlpatterns: list = []
