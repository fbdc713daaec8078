"""Every ORM write in the product lives in a service or model module (docs/security.md's audit rule, kept by a tool).

The walk reads the product packages' source (not importing it) and finds calls that write through Django's ORM:
`.save()`, `.delete()`, and `.create()`, `.get_or_create()`, `.update_or_create()`, `.bulk_create()`,
`.bulk_update()`, `.update()`, `.create_user()`, `.create_superuser()` on a manager or queryset, and raw SQL
(`cursor.execute()`). Views, admin actions, commands, tasks and pipelines call
the named services instead, which are atomic, take `acting_user` and write an audit row.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# docusign_sandbox is not the portal: it stands in for DocuSign and keeps no audit trail of the portal's.
PRODUCT_PACKAGES = ("portal", "background", "pages", "api", "tenants", "docusign_integration", "outbound_events")

# The modules that may write, each with why. Everything else calls one of their functions.
ALLOWED: dict[str, str] = {
    # The domain's named, audited services (tenants/services.py re-exports them) and the audit log itself.
    "tenants/organizations.py": "services: provisioning, renaming, account choice",
    "tenants/readiness.py": "service: an organization becomes Ready (or stops being Ready) when the checklist's facts hold",
    "tenants/system_users.py": "services: the system user and what consent checks found",
    "tenants/invitations.py": "services: sending and accepting invitations",
    "tenants/offboarding.py": "services: offboarding and reactivation",
    "tenants/audit.py": "writes the audit rows themselves",
    # The integration's named, audited services, each beside the DocuSign resource it serves.
    "docusign_integration/oauth/credentials.py": "services: client admins' DocuSign connections",
    "docusign_integration/connect/hmac.py": "services: Connect HMAC keys",
    "docusign_integration/connect/events.py": "services: storing, applying, replaying and quarantining Connect messages",
    "docusign_integration/envelopes/status.py": "service: the envelope status state machine",
    "docusign_integration/envelopes/sending.py": "service: sending an envelope",
    "docusign_integration/setup/account_setup.py": "service: Setup DocuSign account",
    "docusign_integration/envelopes/documents.py": "services: signed-document downloads (lease, store, fail, retry)",
    "docusign_integration/envelopes/sync.py": "service: the polling sweep's per-account watermark",
    "docusign_integration/oauth/state.py": "services: OAuth state, a single-use nonce per redirect, and its cancellation",
    # Bookkeeping that is not a change anyone makes: caches and counters, rewritten on every call to DocuSign.
    "docusign_integration/oauth/tokens.py": "the JWT access-token cache",
    "docusign_integration/client/rate_limits.py": "DocuSign's rate-limit headers, recorded per account per call",
    "docusign_integration/keys/key_rotation.py": "service: re-encryption under a new key (the same values, another key)",
    "tenants/isv.py": "service: recording the ISV account (audited)",
    "docusign_integration/hosting/provisioning.py": "services: hosted clients' system users (audited, as system_user.update)",
    "docusign_integration/hosting/isv_setup.py": "service: the ISV account's own setup state (audited pushes and checks)",
    "docusign_integration/hosting/sweep.py": "bookkeeping: the ISV account's sweep watermark and its last figures",
    "api/keys.py": "services: an organization's API keys (issue, update, revoke; audited by prefix)",
    "api/envelopes.py": "the API's envelope metadata rows, written in the transaction that records the envelope",
    "api/idempotency.py": "bookkeeping: Idempotency-Key claims and their stored first answers",
    "api/tasks.py": "bookkeeping: purging Idempotency-Key records after 24 hours",
    "api/templates.py": "bookkeeping: the cache of the client's DocuSign templates (the allow-list is staff's, audited)",
    "api/usage.py": "bookkeeping: calls and errors per key and hour",
    "outbound_events/outbox.py": "the outbox: events and their deliveries, in the state change's transaction",
    "outbound_events/delivery.py": "bookkeeping: delivery attempts, leases and endpoint failure counts",
    "outbound_events/services.py": "services: webhook endpoints (add, rotate, enable, disable) and replays",
    "outbound_events/tasks.py": "bookkeeping: the sweep that requeues deliveries whose lease or message was lost",
    "background/dead_letters.py": "services: background-task failures (dead letters) and their resolution",
    "portal/health.py": "the readiness probe's `SELECT 1` (raw SQL, a read)",
    "portal/staff_otp.py": "service: a staff member's TOTP device",
    # Development only: `make run` creates its demo staff user before any service or audit trail is in use.
    "portal/management/commands/seed_demo.py": "the demo staff user of `make run`",
}
# Model modules define the rows' own helpers (a model's save(), a queryset method) and may write.
# Model modules (their own methods: purging expired rows, the one setup profile): each capability keeps its models
# beside it (docusign_integration/<capability>/models.py or models/), the domain and background theirs.
MODEL_MODULE = re.compile(r"^(docusign_integration/(\w+/)?models(\.py|/\w+\.py)|tenants/models\.py|background/models\.py)$")

WRITES = {"save", "delete", "create", "get_or_create", "update_or_create", "bulk_create", "bulk_update", "update",
          "create_user", "create_superuser", "execute"}
# Methods that write on anything: model instances and querysets alike.
ALWAYS_ORM = {"save", "delete"}
# Receivers of .save()/.delete() that are not the ORM.
NOT_ORM = {"default_storage", "request.session", "storage"}
# Receivers that mark a manager or a queryset, for the methods that dicts and hashes have too (update).
QUERYSET_MARKERS = {"objects", "_default_manager", "filter", "exclude", "all", "select_for_update", "using",
                    "select_related", "order_by"}


def _chain(node: ast.expr) -> list[str]:
    """The attribute and call names along a receiver, e.g. Model.objects.filter(...) -> [Model, objects, filter]."""
    names: list[str] = []
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            names.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Name):
            names.append(node.id)
            return names[::-1]
        else:
            return names[::-1]


def orm_writes(source: str) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in WRITES):
            continue
        receiver = _chain(node.func.value)
        text = ".".join(receiver)
        if receiver[:1] == ["super"]:
            continue  # a model's own save() calling Django's
        if node.func.attr == "execute":
            if receiver[-1:] == ["cursor"]:
                found.append((node.lineno, f"{text}.execute() (raw SQL)"))  # it may write; only allowed modules
        elif node.func.attr in ALWAYS_ORM:
            if text not in NOT_ORM:
                found.append((node.lineno, f"{text}.{node.func.attr}()"))
        elif QUERYSET_MARKERS & set(receiver):
            found.append((node.lineno, f"{text}.{node.func.attr}()"))
    return found


def product_modules() -> list[Path]:
    return sorted(path for package in PRODUCT_PACKAGES for path in (ROOT / package).rglob("*.py")
                  if "migrations" not in path.relative_to(ROOT).parts)


def allowed(relative: str) -> bool:
    return relative in ALLOWED or bool(MODEL_MODULE.match(relative))


def test_no_orm_write_outside_the_service_and_model_modules():
    outside = {}
    for path in product_modules():
        relative = path.relative_to(ROOT).as_posix()
        if not allowed(relative) and (writes := orm_writes(path.read_text(encoding="utf-8"))):
            outside[relative] = writes
    assert not outside, f"write through a named, audited service instead: {outside}"


def test_every_allowed_module_exists_and_writes():
    """An entry for a module that moved or stopped writing would widen the rule silently."""
    for relative in ALLOWED:
        path = ROOT / relative
        assert path.exists(), f"{relative} is in ALLOWED but does not exist"
        assert orm_writes(path.read_text(encoding="utf-8")), f"{relative} is in ALLOWED but writes nothing"


def test_the_walk_finds_the_writes_it_is_meant_to():
    source = (
        "Model.objects.create(a=1)\nModel.objects.filter(pk=1).update(a=2)\nrow.save()\nrows.delete()\n"
        "Model.objects.get_or_create(a=1)\nqs.select_for_update().bulk_create([])\n"
        "User.objects.create_user('a')\ncursor.execute('UPDATE x')\n"
        "counts.update({})\ndefault_storage.save(name, f)\nsuper().save()\nself.sha256.update(b'')\nrun.execute()\n"
    )
    assert [line for line, _ in orm_writes(source)] == [1, 2, 3, 4, 5, 6, 7, 8]


PRODUCT_APPS = {"tenants", "docusign_integration", "portal"}


def test_no_product_admin_lets_django_write_unaudited(db, rf):
    """The admin's own obj.save()/obj.delete() are Django's code, out of the walk's sight: a product ModelAdmin that
    allows adding, changing or deleting a row overrides the method that writes it to call a service instead."""
    from django.contrib import admin
    from django.contrib.auth import get_user_model

    request = rf.get("/admin/")
    request.user = get_user_model().objects.create_superuser("walker", "walker@example.com", "x")
    unaudited = []
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in PRODUCT_APPS:
            continue
        row = model()
        own = type(model_admin).__dict__.keys() | {name for base in type(model_admin).__mro__[1:]
                                                    if base.__module__.split(".")[0] in PRODUCT_APPS
                                                    for name in base.__dict__}
        if model_admin.has_add_permission(request) and "save_model" not in own:
            unaudited.append(f"{model._meta.label}: add")
        if model_admin.has_change_permission(request, row) and "save_model" not in own:
            unaudited.append(f"{model._meta.label}: change")
        if model_admin.has_delete_permission(request, row) and not {"delete_model", "delete_queryset"} <= own:
            unaudited.append(f"{model._meta.label}: delete")
    assert not unaudited, f"these admin writes skip the audited services: {unaudited}"
