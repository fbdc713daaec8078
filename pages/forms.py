"""Forms of the client onboarding pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import authenticate, get_user_model, password_validation
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import User
from django.http import HttpRequest


class NewPasswordForm(forms.Form):
    """Choose the portal password of a new portal user (never a DocuSign password)."""

    password1 = forms.CharField(label="Portal password", strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                help_text=password_validation.password_validators_help_text_html())
    password2 = forms.CharField(label="Portal password again", strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords differ.")
        elif first:
            # Validated against the future user, so a password similar to the email address is refused.
            candidate = get_user_model()(username=self.email.lower(), email=self.email)
            try:
                password_validation.validate_password(first, candidate)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class ExistingPasswordForm(forms.Form):
    """Sign in as the existing portal user the invitation was sent to."""

    password = forms.CharField(label="Portal password", strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))

    def __init__(self, *args: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request, self.user = request, user
        self.authenticated_user: AbstractBaseUser | None = None

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("password"):
            self.authenticated_user = authenticate(self.request, username=self.user.get_username(),
                                                   password=cleaned["password"])
            if self.authenticated_user is None:
                raise forms.ValidationError("That password is not right. Use the password of your portal account.")
        return cleaned


class AccountChoiceForm(forms.Form):
    """Choose one of the DocuSign accounts the connected user belongs to."""

    account_id = forms.ChoiceField(label="DocuSign account", widget=forms.RadioSelect)

    def __init__(self, *args: Any, accounts: list[dict], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["account_id"]
        assert isinstance(field, forms.ChoiceField)  # declared above
        field.choices = [(a["account_id"], a["account_name"]) for a in accounts]
        field.error_messages["invalid_choice"] = ("That account cannot be chosen: it is linked to another client "
                                                  "organization, or your DocuSign user does not belong to it.")
        default = next((a["account_id"] for a in accounts if a.get("is_default")), None)
        if default:
            field.initial = default
