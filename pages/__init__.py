"""The pages over the domain (README "Architecture"): staff admin, onboarding and envelope pages, dashboard and health.

They import the domain (tenants, docusign_integration's services); the domain never imports them (import-linter).
"""
