"""The console's templates page: each account's server templates, their roles and documents (read only)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .control_views import control_only
from .models import Template

PAGE = 200


@control_only
@require_GET
def templates(request: HttpRequest) -> HttpResponse:
    rows = []
    for template in Template.objects.select_related("account", "owner").order_by("account__name", "name", "pk")[:PAGE]:
        recipients = template.definition.get("recipients", {})
        roles = [f"{r.get('roleName') or r.get('name')} ({'signer' if group == 'signers' else 'carbon copy'}, "
                 f"routing order {r.get('routingOrder', '1')})"
                 for group in ("signers", "carbonCopies") for r in recipients.get(group, [])]
        documents = [d["name"] for d in template.definition.get("documents", [])]
        rows.append({"template": template, "roles": roles, "documents": documents})
    return render(request, "docusign_sandbox/console_templates.html", {"rows": rows})
