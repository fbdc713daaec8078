"""docs/security.md BG-1: a task whose retries run out becomes one dead letter (ids only) and one alert."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

import pytest
from django.core import mail

from background import dead_letters
from background.models import NOT_AN_ID, FailedTask
from docusign_integration.connect.tasks import process_connect_events
from docusign_integration.envelopes.tasks import sync_organization
from tenants.models import AuditEvent
from tests.envelopes.conftest import add_fault, api_requests

LIST = r"/envelopes$"
TRIES = sync_organization.max_retries + 1


def fail_every_try(sandbox) -> None:
    add_fault(sandbox, LIST, "503", count=TRIES)


def test_retries_exhausted_leave_one_dead_letter_with_ids_only_and_one_mail(sandbox, acme, fast_http, admins, caplog):
    fail_every_try(sandbox)

    with caplog.at_level(logging.ERROR, logger="background.dead_letters"):
        result = sync_organization.apply(args=[acme.pk])

    assert result.failed()
    assert api_requests(LIST).count() == TRIES  # every retry ran (eagerly), then the task gave up
    letter = FailedTask.objects.get()
    assert letter.task_name == "docusign_integration.tasks_envelopes.sync_organization"
    assert (letter.args, letter.kwargs) == ([acme.pk], {})
    assert letter.exception_class == "docusign_integration.client.errors.TransientError"
    assert letter.message.startswith("DocuSign is unavailable")  # DocuSign's user-facing sentence
    assert (letter.retries, letter.failure_count, letter.resolved) == (sync_organization.max_retries, 1, False)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["operators@isv.example"]
    assert "sync_organization" in mail.outbox[0].subject and f"/admin/background/failedtask/{letter.pk}/" in mail.outbox[0].body
    assert [r.levelno for r in caplog.records if "task_failed" in r.getMessage()] == [logging.ERROR]


def test_the_same_failure_again_counts_on_the_same_row_without_a_second_mail(sandbox, acme, fast_http, admins):
    fail_every_try(sandbox)
    sync_organization.apply(args=[acme.pk])
    fail_every_try(sandbox)

    sync_organization.apply(args=[acme.pk])

    letter = FailedTask.objects.get()
    assert letter.failure_count == 2 and letter.last_failed_at > letter.first_failed_at
    assert len(mail.outbox) == 1


def test_another_call_of_the_same_task_is_its_own_row_but_shares_the_ten_minute_mail_limit(sandbox, acme, globex, fast_http,
                                                                                             admins):
    add_fault(sandbox, LIST, "503", count=2 * TRIES)
    sync_organization.apply(args=[acme.pk])
    sync_organization.apply(args=[globex.pk])

    assert sorted(FailedTask.objects.values_list("args", flat=True)) == sorted([[acme.pk], [globex.pk]])
    assert len(mail.outbox) == 1


def test_a_call_that_succeeds_later_closes_its_dead_letter_and_leaves_the_others_open(sandbox, acme, globex, fast_http,
                                                                                      admins):
    add_fault(sandbox, LIST, "503", count=2 * TRIES)
    sync_organization.apply(args=[acme.pk])
    sync_organization.apply(args=[globex.pk])
    assert FailedTask.objects.filter(resolved=False).count() == 2

    assert sync_organization.apply(args=[acme.pk]).successful()  # DocuSign answers again (the next beat run)

    letters = {letter.args[0]: letter for letter in FailedTask.objects.all()}
    assert (letters[acme.pk].resolved, letters[acme.pk].resolution) == (True, "succeeded")
    assert letters[acme.pk].resolved_by is None and letters[globex.pk].resolved is False
    assert AuditEvent.objects.filter(action="task.dead_letter.succeeded").count() == 1


def test_a_rate_limit_that_outlasts_the_retries_is_recorded_as_one(sandbox, acme, fast_http, admins):
    add_fault(sandbox, LIST, "429")  # then the account is blocked locally: each retry defers without a call

    sync_organization.apply(args=[acme.pk])

    letter = FailedTask.objects.get()
    assert (letter.exception_class, letter.retries) == ("docusign_integration.client.errors.RateLimited",
                                                        sync_organization.max_retries)
    assert letter.error_code in ("BLOCKED_LOCALLY", "RATE_LIMITED")
    assert api_requests(LIST).count() < TRIES


def test_after_ten_minutes_the_next_failure_mails_again(db, admins):
    failure = RuntimeError("still broken")
    dead_letters.dead_letter_write(task_name="t.beat", task_id="1", args=[1], kwargs={}, exc=failure, retries=0)
    FailedTask.objects.update(alerted_at=FailedTask.objects.get().alerted_at - timedelta(minutes=10, seconds=1))

    dead_letters.dead_letter_write(task_name="t.beat", task_id="2", args=[1], kwargs={}, exc=failure, retries=0)

    assert len(mail.outbox) == 2 and FailedTask.objects.get().failure_count == 2


def test_the_same_task_id_reported_twice_counts_once(db, admins):
    failure = RuntimeError("poison message")
    for _ in range(2):  # a redelivered message fails again under the same id
        dead_letters.dead_letter_write(task_name="t.poison", task_id="abc", args=[7], kwargs={}, exc=failure, retries=0)
    assert FailedTask.objects.get().failure_count == 1


def test_a_resolved_dead_letter_stays_and_a_new_failure_opens_a_new_row(db, admins):
    failure = RuntimeError("broken")
    first = dead_letters.dead_letter_write(task_name="t.x", task_id="1", args=[3], kwargs={}, exc=failure, retries=0)
    dead_letters.failed_task_resolve(acting_user=None, failed_task=first)

    dead_letters.dead_letter_write(task_name="t.x", task_id="2", args=[3], kwargs={}, exc=failure, retries=0)

    assert list(FailedTask.objects.order_by("pk").values_list("resolved", flat=True)) == [True, False]


SECRET = f"CANARY-{uuid.uuid4()}"


@pytest.mark.parametrize("value", [
    SECRET, f"Bearer {SECRET}", {"refresh_token": SECRET}, [1, SECRET], 3.5, True, b"bytes", "12345", list(range(501)),
], ids=["token", "bearer", "dict", "mixed list", "float", "bool", "bytes", "digit string", "long list"])
def test_a_dead_letter_never_stores_an_argument_that_is_not_an_id(db, value):
    letter = dead_letters.dead_letter_write(task_name="t.args", task_id="1", args=[5, value],
                                            kwargs={"token": value, "organization_id": 5}, exc=RuntimeError("x"),
                                            retries=0)
    assert letter.args == [5, NOT_AN_ID]
    assert letter.kwargs == {"token": NOT_AN_ID, "organization_id": 5}
    assert not letter.can_retry
    assert SECRET not in str(FailedTask.objects.values().get())


@pytest.mark.parametrize("value", [42, None, str(uuid.uuid4()), [1, 2, 3]], ids=["int", "None", "GUID", "list of ints"])
def test_ids_are_kept_as_they_were(db, value):
    letter = dead_letters.dead_letter_write(task_name="t.ids", task_id="1", args=[value], kwargs={},
                                            exc=RuntimeError("x"), retries=0)
    assert letter.args == [value] and letter.can_retry


def test_a_task_called_with_something_other_than_ids_leaves_a_placeholder(db, eager_celery, admins):
    message = {"envelope": SECRET}  # not what the listener sends: process_connect_events refuses it

    result = process_connect_events.apply(args=[message])

    assert isinstance(result.result, ValueError)
    letter = FailedTask.objects.get()
    assert letter.args == [NOT_AN_ID]
    assert SECRET not in str(FailedTask.objects.values().get()) and SECRET not in mail.outbox[0].body


def test_the_message_of_an_arbitrary_exception_is_scrubbed(db, settings):
    settings.CELERY_BROKER_URL = f"redis://:{SECRET}@broker.internal:6379/0"
    failure = RuntimeError(f"Error connecting to redis://:{SECRET}@broker.internal:6379/0; token={uuid.uuid4().hex}x "
                           f"Authorization: Bearer abc.def.ghi and {'A' * 40}")

    letter = dead_letters.dead_letter_write(task_name="t.msg", task_id="1", args=[], kwargs={}, exc=failure, retries=0)

    assert SECRET not in letter.message and "Bearer abc" not in letter.message and "A" * 40 not in letter.message
    assert "Error connecting to redis://" in letter.message and "broker.internal" in letter.message
