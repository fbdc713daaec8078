"""Status badges for admin pages: one markup, styled by static/admin_badges.css (the CSP forbids style attributes)."""

from __future__ import annotations

from django.utils.html import format_html
from django.utils.safestring import SafeString

TONES = ("ok", "warning", "error", "neutral", "info")
BADGE_MEDIA = {"all": ("admin_badges.css",)}  # for a ModelAdmin's `class Media: css = BADGE_MEDIA`


def badge(label: str, tone: str, title: str = "") -> SafeString:
    """A badge; `tone` is one of TONES; `title` shows on hover (e.g. which fields drifted)."""
    if tone not in TONES:
        raise ValueError(f"unknown badge tone {tone!r}")
    if title:
        return format_html('<span class="badge badge-{}" title="{}">{}</span>', tone, title, label)
    return format_html('<span class="badge badge-{}">{}</span>', tone, label)
