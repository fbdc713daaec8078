"""Client admins' onboarding pages, scoped to their own organization."""

app_name = "onboarding"
urlpatterns: list = []
