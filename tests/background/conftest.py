"""Dead letters and task retries: the sandbox's organizations, fast HTTP, ADMINS set, and a recorder of retry decisions."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from tests.envelopes.conftest import connected_organization


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def fast_http(settings):
    """One HTTP try per task try (so one injected fault is one failed task try), short timeouts."""
    settings.DOCUSIGN_HTTP_TIMEOUT = (2.0, 0.5)
    settings.DOCUSIGN_SANDBOX_FAULT_DELAY = 1.0
    settings.DOCUSIGN_HTTP_MAX_TRIES = 1


@pytest.fixture
def admins(settings):
    """Production's error settings: DEBUG off, an operators' address in ADMINS."""
    settings.DEBUG = False
    settings.ADMINS = [("Portal operators", "operators@isv.example")]
    return settings.ADMINS


@pytest.fixture
def acme(sandbox):
    return connected_organization(sandbox, "acme")


@dataclass
class Retries:
    """What a task asked Celery for: each retry's countdown and the exception it retried."""

    countdowns: list[float] = field(default_factory=list)
    exceptions: list[BaseException] = field(default_factory=list)


class RetryScheduled(Exception):
    """Stands for Celery's Retry: the task asked to run again later (nothing is queued)."""


@pytest.fixture
def record_retries(monkeypatch):
    """Patch `task.retry` to record the decision and stop, as a worker would after scheduling the retry."""
    def install(task) -> Retries:
        seen = Retries()

        def retry(*args, exc=None, countdown=None, **kwargs):
            seen.countdowns.append(countdown)
            seen.exceptions.append(exc)
            raise RetryScheduled

        monkeypatch.setattr(task, "retry", retry)
        return seen

    return install

@pytest.fixture
def globex(sandbox):
    return connected_organization(sandbox, "globex")
