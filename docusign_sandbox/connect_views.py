"""Connect REST endpoints: account-level configurations, the failure log and republishing (docs/docusign.md §7.1, §11.7).

Every endpoint needs an account administrator on an account with Connect enabled. Configurations are stored
as DocuSign returns them: every scalar a string, `connectId` the primary key.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from . import clock, connect_delivery, router
from .api import ApiError, Caller, json_response, read_json, require_admin, rest_endpoint
from .control_views import is_loopback
from .models import Account, ConnectConfiguration, ConnectDelivery

MAX_CONFIGURATIONS = 20  # docs/docusign.md §7.1
REQUIRED_FIELDS = ("configurationType", "name")


def _require_connect_admin(caller: Caller) -> None:
    require_admin(caller)
    if not caller.account.connect_enabled:
        # UNVERIFIED: DocuSign's errorCode for an account without Connect is not documented; this one is ours.
        raise ApiError("CONNECT_NOT_ENABLED", "Connect is not enabled for this account.")


def _method_not_allowed() -> ApiError:
    return ApiError("INVALID_REQUEST_PARAMETER", "The HTTP method is not supported for this resource.", 405)


def as_strings(value: Any) -> Any:
    """DocuSign's typing: booleans as "true"/"false", numbers as strings, nulls dropped, recursively."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict):
        return {key: as_strings(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [as_strings(item) for item in value if item is not None]
    return value


def _invalid(message: str) -> ApiError:
    return ApiError("INVALID_REQUEST_PARAMETER", f"The request contained at least one invalid parameter. {message}")


def _validated(body: dict[str, Any]) -> dict[str, Any]:
    """The configuration to store: string-typed, defaults applied, required fields and the URL checked."""
    body = as_strings(body)
    body.pop("connectId", None)
    body.setdefault("allowEnvelopePublish", "false")
    for field in REQUIRED_FIELDS:
        if not isinstance(body.get(field), str) or not body[field].strip():
            raise _invalid(f"'{field}' is required.")
    url = body.get("urlToPublishTo")
    if url is not None or body["allowEnvelopePublish"] == "true":
        _check_listener_url(url)
    return body


def _check_listener_url(url: Any) -> None:
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is not None and parts.hostname and parts.scheme == "https":
        return
    # DocuSign requires HTTPS. The sandbox also accepts plain HTTP to this machine because the portal it
    # delivers to runs next to it (development, tests) without TLS; nothing else may be reached over HTTP.
    if parts is not None and parts.hostname and parts.scheme == "http" and is_loopback(parts.hostname):
        return
    raise _invalid("'urlToPublishTo' must be an https:// URL.")


def _configuration_json(configuration: ConnectConfiguration) -> dict[str, Any]:
    return {"connectId": configuration.connect_id, **configuration.body}


def _results(configurations: list[ConnectConfiguration]) -> dict[str, Any]:
    """connectConfigResults: the wrapper of both the list and the get-by-id response (docs/docusign.md §11.7)."""
    return {"configurations": [_configuration_json(c) for c in configurations], "totalRecords": str(len(configurations))}


def _configuration(caller: Caller, connect_id: Any) -> ConnectConfiguration:
    configuration = None
    if str(connect_id).isdigit():
        configuration = ConnectConfiguration.objects.filter(account=caller.account, pk=int(connect_id)).first()
    if configuration is None:
        # UNVERIFIED: errorCode and message are the sandbox's own.
        raise ApiError("CONNECT_CONFIGURATION_NOT_FOUND", "The Connect configuration specified does not exist.")
    return configuration


@rest_endpoint
def configurations(request: HttpRequest, caller: Caller) -> HttpResponse:
    """`GET /connect` lists, `POST /connect` creates, `PUT /connect` (connectId in the body) updates."""
    _require_connect_admin(caller)
    if request.method == "GET":
        return json_response(_results(list(caller.account.connect_configurations.order_by("pk"))))
    if request.method == "POST":
        body = _validated(read_json(request))
        with transaction.atomic(using=router.database()):
            # The account row lock keeps two concurrent creates from passing the limit together.
            Account.objects.select_for_update().filter(pk=caller.account.pk).first()
            if caller.account.connect_configurations.count() >= MAX_CONFIGURATIONS:
                # UNVERIFIED: errorCode is the sandbox's own; the limit of 20 is documented.
                raise ApiError("CONNECT_CONFIGURATION_LIMIT_EXCEEDED",
                               f"An account may have at most {MAX_CONFIGURATIONS} Connect configurations.")
            configuration = ConnectConfiguration.objects.create(account=caller.account, body=body)
        return json_response(_configuration_json(configuration), status=201)
    if request.method == "PUT":
        changes = read_json(request)
        configuration = _configuration(caller, changes.get("connectId"))
        # UNVERIFIED: the fields a PUT leaves out are kept (a partial update), as DocuSign's console behaves.
        configuration.body = _validated({**configuration.body, **changes})
        configuration.save(update_fields=["body", "modified"])
        return json_response(_configuration_json(configuration))
    raise _method_not_allowed()


@rest_endpoint
def configuration(request: HttpRequest, caller: Caller, connect_id: str) -> HttpResponse:
    """`GET /connect/{connectId}` (the list wrapper with one item) and `DELETE /connect/{connectId}`."""
    _require_connect_admin(caller)
    found = _configuration(caller, connect_id)
    if request.method == "GET":
        return json_response(_results([found]))
    if request.method == "DELETE":
        found.delete()
        return HttpResponse(status=200)
    raise _method_not_allowed()


def _failure_json(delivery: ConnectDelivery) -> dict[str, str]:
    """connectLog as DocuSign lists it under `failures` (connectLog in DocuSign's OpenAPI spec; string-typed)."""
    return {
        "failureId": str(delivery.pk),
        "accountId": delivery.account.account_id,
        "connectId": str(delivery.configuration_id or ""),
        "configUrl": delivery.url,
        "envelopeId": delivery.envelope_id,
        "status": delivery.status,
        "error": delivery.last_error,
        "created": clock.iso(delivery.created) or "",
        "lastTry": clock.iso(delivery.last_attempt_at) or "",
        "retryCount": str(max(delivery.attempts - 1, 0)),
        "failureUri": f"/connect/failures/{delivery.pk}",
        "retryUri": f"/connect/envelopes/{delivery.envelope_id}/retry_queue",
    }


def _failures(caller: Caller) -> QuerySet[ConnectDelivery]:
    return (ConnectDelivery.objects.filter(account=caller.account, status=ConnectDelivery.FAILED)
            .select_related("account").order_by("created", "pk"))


@rest_endpoint
def failures(request: HttpRequest, caller: Caller) -> HttpResponse:
    """`GET /connect/failures`: the account's deliveries that failed and were not republished."""
    _require_connect_admin(caller)
    if request.method != "GET":
        raise _method_not_allowed()
    items = [_failure_json(d) for d in _failures(caller)]
    return json_response({"failures": items, "totalRecords": str(len(items))})


@rest_endpoint
def failure(request: HttpRequest, caller: Caller, failure_id: str) -> HttpResponse:
    """`DELETE /connect/failures/{failureId}`: forget a failed message; it will not be retried."""
    _require_connect_admin(caller)
    if request.method != "DELETE":
        raise _method_not_allowed()
    deleted = _failures(caller).filter(pk=int(failure_id)).delete()[0] if failure_id.isdigit() else 0
    if not deleted:
        # UNVERIFIED: errorCode is the sandbox's own.
        raise ApiError("CONNECT_FAILURE_NOT_FOUND", "The Connect failure specified does not exist.")
    return HttpResponse(status=200)


def _republish(caller: Caller, envelope_ids: list[str]) -> HttpResponse:
    """Republish the failed messages of these envelopes: connectFailureResults {retryQueue: [...]}."""
    with transaction.atomic(using=router.database()):
        deliveries = list(_failures(caller).filter(envelope_id__in=envelope_ids))
        connect_delivery.republish(deliveries)
    queued = [{"configId": str(d.configuration_id or ""), "configUrl": d.url, "envelopeId": d.envelope_id,
               "status": "queued", "statusMessage": "The message was queued for republishing."} for d in deliveries]
    return json_response({"retryQueue": queued})


@rest_endpoint
def envelope_retry_queue(request: HttpRequest, caller: Caller, envelope_id: str) -> HttpResponse:
    """`PUT /connect/envelopes/{envelopeId}/retry_queue`."""
    _require_connect_admin(caller)
    if request.method != "PUT":
        raise _method_not_allowed()
    return _republish(caller, [envelope_id])


@rest_endpoint
def retry_queue(request: HttpRequest, caller: Caller) -> HttpResponse:
    """`PUT /connect/envelopes/retry_queue` with `{"envelopeIds": [...]}`."""
    _require_connect_admin(caller)
    if request.method != "PUT":
        raise _method_not_allowed()
    envelope_ids = read_json(request).get("envelopeIds")
    if not isinstance(envelope_ids, list) or not all(isinstance(e, str) for e in envelope_ids):
        raise _invalid("'envelopeIds' must be a list of envelope IDs.")
    return _republish(caller, envelope_ids)
