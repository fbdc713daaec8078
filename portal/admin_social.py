"""python-social-auth's tables (its links, nonces, associations) are plumbing of "Connect to DocuSign", not something
ISV staff act on: hidden from staff, and read-only for superusers who need to look at a link while debugging.
The portal's own view of a connection is DocuSignCredential's admin."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from social_django.models import Association, Code, Nonce, Partial, UserSocialAuth


class SuperuserReadOnlyAdmin(admin.ModelAdmin):
    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class UserSocialAuthAdmin(SuperuserReadOnlyAdmin):
    list_display = ("user", "provider", "uid", "created", "modified")
    exclude = ("extra_data",)  # whatever a backend put there stays out of pages


for model in (UserSocialAuth, Nonce, Association, Code, Partial):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
admin.site.register(UserSocialAuth, UserSocialAuthAdmin)
for model in (Nonce, Association, Code, Partial):
    admin.site.register(model, SuperuserReadOnlyAdmin)
