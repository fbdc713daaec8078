"""The sandbox's root page (`/` on its origin), and the README's sandbox section it links, served offline."""

from __future__ import annotations

from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .control_views import control_enabled

# The repository's README, beside this package: the sandbox serves it so the link works without the internet.
README = Path(__file__).resolve().parent.parent / "README.md"
README_SECTION = "## The DocuSign sandbox"


@require_GET
def root(request: HttpRequest) -> HttpResponse:
    """What this is: an offline DocuSign; the console's link only when control is enabled (it exists only then)."""
    return render(request, "docusign_sandbox/home.html", {"control": control_enabled()})


def readme_section(text: str) -> str:
    """The README's sandbox section: from its heading up to the next second-level heading."""
    start = text.find(README_SECTION)
    if start < 0:
        return ""
    end = text.find("\n## ", start + len(README_SECTION))
    return text[start:end if end >= 0 else len(text)].strip() + "\n"


@require_GET
def readme(request: HttpRequest) -> HttpResponse:
    section = readme_section(README.read_text(encoding="utf-8")) if README.is_file() else ""
    return HttpResponse(section or "The README's sandbox section is not available.\n",
                        content_type="text/plain; charset=utf-8", status=200 if section else 404)
