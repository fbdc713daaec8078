"""Envelope workflow: a `pause_before` step holds the envelope before a routing order until the sender resumes it.

DocuSign's "pause a signature workflow": `workflow.workflowSteps = [{action: "pause_before", triggerOnItem:
"routing_order", itemId: "2"}]` on create. When routing reaches that order the envelope stays `sent`, nobody of that
order (or later) is sent to, `workflowStatus` becomes `paused` and `currentWorkflowStepId` names the step.
`PUT /envelopes/{id}` with `{"workflow": {"workflowStatus": "in_progress"}}` resumes routing. Anything else in a
workflow (scheduled sending, delayed routing, other actions) the sandbox does not model, so it is refused.
References: https://developers.docusign.com/docs/esign-rest-api/how-to/pause-workflow/ ,
https://developers.docusign.com/docs/esign-rest-api/how-to/unpause-workflow/
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from . import clock
from .api import ApiError, Caller, json_response, rest_endpoint
from .models import Envelope, Recipient

BODY_ERROR = "The request body is missing or improperly formatted."
MODELLED_STEP_KEYS = frozenset({"action", "triggerOnItem", "itemId", "workflowStepId", "status"})
MODELLED_WORKFLOW_KEYS = frozenset({"workflowSteps", "workflowStatus", "currentWorkflowStepId"})


def _unmodelled(field: str) -> ApiError:
    # The sandbox's own code (docs/sandbox.md): it refuses what it does not model rather than ignore it.
    return ApiError("SANDBOX_UNSUPPORTED_FIELD", f"The DocuSign sandbox does not model '{field}'; it refuses it "
                    "rather than ignore it.")


def parse(body: object, recipients: list[Recipient]) -> list[dict[str, Any]]:
    """The workflow steps of a create request (each a pause before a routing order the envelope has)."""
    if body is None or body == {}:
        return []
    if not isinstance(body, dict):
        raise ApiError("INVALID_REQUEST_BODY", BODY_ERROR)
    for key in body.keys() - MODELLED_WORKFLOW_KEYS:
        if body[key] not in (None, "", [], {}):
            raise _unmodelled(f"workflow.{key}")
    steps = body.get("workflowSteps") or []
    if not isinstance(steps, list) or not all(isinstance(step, dict) for step in steps):
        raise ApiError("INVALID_REQUEST_BODY", f"{BODY_ERROR} 'workflowSteps' must be a list of objects.")
    orders = {r.routing_order for r in recipients}
    parsed = []
    for number, step in enumerate(steps, start=1):
        for key in step.keys() - MODELLED_STEP_KEYS:
            if step[key] not in (None, "", [], {}):
                raise _unmodelled(f"workflow.workflowSteps.{key}")
        action, trigger = str(step.get("action") or ""), str(step.get("triggerOnItem") or "")
        item = str(step.get("itemId") or "")
        if action.lower() != "pause_before" or trigger.lower() != "routing_order":
            raise _unmodelled(f"workflow.workflowSteps.action={action or '(none)'}, triggerOnItem={trigger or '(none)'}")
        if not item.isdigit() or int(item) not in orders:
            raise ApiError("INVALID_REQUEST_PARAMETER",  # UNVERIFIED wording
                           "The request contained at least one invalid parameter. 'itemId' of a workflow step must be "
                           "the routing order of a recipient of the envelope.")
        parsed.append({"workflowStepId": str(number), "action": "pause_before", "triggerOnItem": "routing_order",
                       "itemId": item, "status": "pending"})
    return parsed


def hold(envelope: Envelope, steps: list[dict[str, Any]]) -> None:
    """Store a new envelope's steps (workflowStatus in_progress until a pause triggers)."""
    if steps:
        envelope.workflow = {"workflowStatus": "in_progress", "workflowSteps": steps}
        envelope.save(update_fields=["workflow"])


def is_paused(envelope: Envelope) -> bool:
    return envelope.workflow.get("workflowStatus") == "paused"


def pause_before(envelope: Envelope, order: int, now: datetime) -> int | None:
    """Routing is about to reach `order`: the routing order it must stop before, pausing the envelope, or None."""
    if is_paused(envelope):
        return int(envelope.workflow["currentPauseBefore"])
    for step in envelope.workflow.get("workflowSteps", []):
        if step["status"] == "pending" and int(step["itemId"]) <= order:
            step["status"], step["triggeredDate"] = "paused", clock.iso(now)
            envelope.workflow.update(workflowStatus="paused", currentWorkflowStepId=step["workflowStepId"],
                                     currentPauseBefore=step["itemId"])
            envelope.save(update_fields=["workflow"])
            return int(step["itemId"])
    return None


def resume(envelope: Envelope, body: dict[str, Any]) -> None:
    """PUT workflow.workflowStatus=in_progress on a paused envelope: finish the pause and route on."""
    from . import envelope_state  # envelope_state asks this module about pauses

    for key in body.keys() - {"workflowStatus"}:
        if body[key] not in (None, "", [], {}):
            raise _unmodelled(f"workflow.{key}")
    if str(body.get("workflowStatus") or "").lower() != "in_progress":
        raise ApiError("INVALID_REQUEST_PARAMETER", "The request contained at least one invalid parameter. "
                       "Value for 'workflow.workflowStatus' must be 'in_progress' to resume a paused envelope.")
    envelope_state.resume(envelope)


def finish_pause(envelope: Envelope, now: datetime) -> None:
    """Mark the triggered step completed and the workflow in progress (the caller then routes on)."""
    if not is_paused(envelope):
        raise ApiError("ENVELOPE_WORKFLOW_NOT_PAUSED",  # UNVERIFIED code: the sandbox's own wording
                       "The envelope's workflow is not paused.")
    for step in envelope.workflow["workflowSteps"]:
        if step["workflowStepId"] == envelope.workflow["currentWorkflowStepId"]:
            step["status"], step["completedDate"] = "completed", clock.iso(now)
    envelope.workflow["workflowStatus"] = "in_progress"
    envelope.workflow.pop("currentWorkflowStepId", None)
    envelope.workflow.pop("currentPauseBefore", None)


def workflow_json(envelope: Envelope) -> dict[str, Any]:
    """`workflow` as DocuSign answers it (the sandbox's bookkeeping key left out)."""
    return {key: value for key, value in envelope.workflow.items() if key != "currentPauseBefore"}


@rest_endpoint
@require_GET
def envelope_workflow(request: HttpRequest, caller: Caller, envelope_id: str) -> HttpResponse:
    """GET /envelopes/{id}/workflow: the envelope's workflow definition."""
    from .envelopes import envelope_for

    return json_response(workflow_json(envelope_for(caller, envelope_id)))
