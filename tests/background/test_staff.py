"""Staff and dead letters: the admin changelist and its actions, and `manage.py failed_tasks`."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from background import dead_letters
from background.models import FailedTask
from tenants.models import AuditEvent
from tests import factories

CHANGELIST = "/admin/background/failedtask/"


def dead_letter(task_name: str, *args: object) -> FailedTask:
    return dead_letters.dead_letter_write(task_name=task_name, task_id=f"id-{task_name}-{args}", args=list(args),
                                          kwargs={}, exc=RuntimeError("broken"), retries=5)


@pytest.fixture
def staff(db):
    """ISV staff granted the failed-task permissions."""
    person = factories.isv_staff("ops")
    person.user_permissions.add(*Permission.objects.filter(content_type__app_label="background"))
    return person


@pytest.fixture
def sweep_letter(db, acme_id):
    return dead_letter("docusign_integration.tasks_envelopes.sync_organization", acme_id)


@pytest.fixture
def acme_id(db) -> int:
    return factories.organization("Acme Corp").pk


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_changelist_costs_the_same_queries_for_one_row_or_twenty(staff):
    browser = client_for(staff)
    dead_letter("t.one", 1)
    dead_letters.failed_task_resolve(acting_user=staff, failed_task=FailedTask.objects.get())
    with CaptureQueriesContext(connection) as one:
        assert browser.get(CHANGELIST).status_code == 200
    for n in range(20):
        row = dead_letter(f"t.many{n % 3}", n)
        if n % 2:
            dead_letters.failed_task_resolve(acting_user=staff, failed_task=row)
    with CaptureQueriesContext(connection) as many:
        response = browser.get(CHANGELIST)
    assert response.status_code == 200 and b"t.many2" in response.content
    assert len(many) == len(one)


def test_the_changelist_filters_by_task_and_resolved(staff):
    dead_letter("t.alpha", 1)
    dead_letters.failed_task_resolve(acting_user=staff, failed_task=dead_letter("t.beta", 2))
    browser = client_for(staff)
    def shown(**filters: str) -> list[str]:
        return [row.task_name for row in browser.get(CHANGELIST, filters).context["cl"].result_list]

    assert shown(resolved__exact="0") == ["t.alpha"]
    assert shown(resolved__exact="1") == ["t.beta"]
    assert shown(task_name="t.beta") == ["t.beta"]


def test_the_retry_action_queues_the_task_again_resolves_and_audits(staff, sweep_letter, acme_id, monkeypatch,
                                                                    django_capture_on_commit_callbacks):
    queued = []
    monkeypatch.setattr("docusign_integration.envelopes.tasks.sync_organization.apply_async",
                        lambda args, kwargs: queued.append((args, kwargs)))

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(staff).post(CHANGELIST, {"action": "retry", "_selected_action": [sweep_letter.pk]})

    assert response.status_code == 302
    assert queued == [((acme_id,), {})]
    sweep_letter.refresh_from_db()
    assert (sweep_letter.resolved, sweep_letter.resolution, sweep_letter.resolved_by) == (True, "retried", staff)
    event = AuditEvent.objects.get(action="task.dead_letter.retried")
    assert event.actor == staff and event.after["failed_task_id"] == sweep_letter.pk and event.after["args"] == [acme_id]


def test_the_retry_action_really_runs_the_task(staff, eager_celery, django_capture_on_commit_callbacks):
    organization = factories.organization("Initech")  # no account yet: the sweep has nothing to do and succeeds
    letter = dead_letter("docusign_integration.tasks_envelopes.sync_organization", organization.pk)

    with django_capture_on_commit_callbacks(execute=True):
        client_for(staff).post(CHANGELIST, {"action": "retry", "_selected_action": [letter.pk]})

    assert FailedTask.objects.filter(resolved=False).count() == 0  # it ran, and did not fail again


def test_a_dead_letter_without_its_ids_is_not_retried(staff):
    letter = dead_letters.dead_letter_write(task_name="t.secretive", task_id="1", args=["not-an-id"], kwargs={},
                                            exc=RuntimeError("x"), retries=0)
    response = client_for(staff).post(CHANGELIST, {"action": "retry", "_selected_action": [letter.pk]}, follow=True)
    assert b"cannot be retried" in response.content
    assert not FailedTask.objects.get().resolved and not AuditEvent.objects.filter(action__startswith="task.").exists()


def test_mark_resolved_writes_an_audit_event(staff, sweep_letter):
    client_for(staff).post(CHANGELIST, {"action": "mark_resolved", "_selected_action": [sweep_letter.pk]})
    sweep_letter.refresh_from_db()
    assert (sweep_letter.resolved, sweep_letter.resolution) == (True, "resolved")
    assert AuditEvent.objects.get(action="task.dead_letter.resolved").actor == staff


def test_a_dead_letter_is_read_only(staff, sweep_letter):
    browser = client_for(staff)
    page = browser.get(f"{CHANGELIST}{sweep_letter.pk}/change/")
    assert page.status_code == 200 and b'name="task_name"' not in page.content
    assert browser.post(f"{CHANGELIST}{sweep_letter.pk}/delete/").status_code == 403
    assert browser.get(f"{CHANGELIST}add/").status_code == 403


@pytest.mark.parametrize("who", ["client admin", "staff without the permission"])
def test_others_cannot_see_or_retry_dead_letters(sweep_letter, acme_id, who):
    if who == "client admin":
        user = factories.client_admin("admin-a", factories.organization("Organization A"))
    else:
        user = factories.isv_staff("support")  # tenants permissions only
    browser = client_for(user)

    listing = browser.get(CHANGELIST)
    action = browser.post(CHANGELIST, {"action": "retry", "_selected_action": [sweep_letter.pk]})

    expected = 302 if who == "client admin" else 403  # non-staff: the admin's login page
    assert (listing.status_code, action.status_code) == (expected, expected)
    assert not FailedTask.objects.get().resolved and not AuditEvent.objects.filter(action__startswith="task.").exists()


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("failed_tasks", *args, stdout=out, stderr=out)
    return out.getvalue()


def test_the_command_lists_unresolved_dead_letters(db, sweep_letter, acme_id):
    dead_letters.failed_task_resolve(acting_user=None, failed_task=dead_letter("t.done", 1))
    output = run()
    assert f"{sweep_letter.pk}  " in output and f"sync_organization[{acme_id}]" in output
    assert "t.done" not in output and output.rstrip().endswith("1 unresolved dead letter(s).")


def test_the_command_retries_and_resolves_by_id(db, sweep_letter, monkeypatch, django_capture_on_commit_callbacks):
    other = dead_letter("t.other", 9)
    queued = []
    monkeypatch.setattr("docusign_integration.envelopes.tasks.sync_organization.apply_async",
                        lambda args, kwargs: queued.append(args))

    assert "would be retried" in run("--retry", str(sweep_letter.pk), "--dry-run")
    assert not queued and not FailedTask.objects.filter(resolved=True).exists()
    with django_capture_on_commit_callbacks(execute=True):
        output = run("--retry", str(sweep_letter.pk), "--resolve", str(other.pk))

    assert output.rstrip().endswith("1 retried, 1 resolved, 0 skipped.")
    assert queued == [tuple(sweep_letter.args)]
    assert set(FailedTask.objects.values_list("resolution", flat=True)) == {"retried", "resolved"}
    assert AuditEvent.objects.filter(action__startswith="task.dead_letter.", actor=None).count() == 2


def test_the_command_refuses_an_unknown_id(db):
    with pytest.raises(CommandError, match="No dead letter with id 404"):
        run("--resolve", "404")
