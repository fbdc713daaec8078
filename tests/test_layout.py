"""The layout of issue 13: docusign_integration/ in subpackages by capability, and what must survive the moves.

Celery task names are what queued messages, beat schedules and dead letters name: the moves kept them.
"""

from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ProjectState

import docusign_integration
from docusign_integration import CAPABILITIES
from portal.celery import app

# Every task name as of main at c1947e4 (before the moves), written out: a rename must fail here.
TASK_NAMES = {
    "docusign_integration.tasks.check_consent_task",
    "docusign_integration.tasks.check_consent_bulk",
    "docusign_integration.tasks_connect.process_connect_event",
    "docusign_integration.tasks_connect.process_connect_events",
    "docusign_integration.tasks_connect.sweep_connect_events",
    "docusign_integration.tasks_connect.republish_failures",
    "docusign_integration.tasks_connect.republish_failures_all",
    "docusign_integration.tasks_credentials.refresh_expiring_credentials",
    "docusign_integration.tasks_credentials.refresh_credential",
    "docusign_integration.tasks_envelopes.sync_all_organizations",
    "docusign_integration.tasks_envelopes.sync_organization",
    "docusign_integration.tasks_envelopes.download_envelope_documents",
    "docusign_integration.tasks_envelopes.download_missing_documents",
    "docusign_integration.tasks_setup.account_setup_push_task",
    "docusign_integration.tasks_setup.account_setup_check_task",
    "docusign_integration.tasks_setup.account_setup_check_all",
    # Issue 18 (hosted clients), new since.
    "docusign_integration.tasks_hosting.provision_hosted_system_user",
    "docusign_integration.tasks_hosting.close_hosted_system_user",
    "docusign_integration.tasks_hosting.sweep_isv_accounts",
    "docusign_integration.tasks_hosting.sweep_isv_account",
    "docusign_integration.tasks_hosting.isv_account_setup_push",
    "docusign_integration.tasks_hosting.isv_account_setup_check",
}

APP_FILES = {"__init__.py", "apps.py", "admin", "urls.py", "models", "migrations", "management", "__pycache__"}


def test_every_task_keeps_its_name_and_autodiscovery_finds_it():
    app.loader.import_default_modules()  # what a worker does at start: CELERY_IMPORTS, then autodiscovery

    ours = {name for name in app.tasks if name.startswith("docusign_integration.")}
    assert ours == TASK_NAMES


def test_every_beat_schedule_entry_names_a_registered_task():
    app.loader.import_default_modules()

    missing = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()} - set(app.tasks)
    assert missing == set()


def test_the_top_level_holds_only_the_capabilities_and_the_apps_own_files():
    top = Path(docusign_integration.__file__).parent

    entries = {path.name for path in top.iterdir()}
    assert entries - APP_FILES == set(CAPABILITIES)


def test_the_moves_need_no_migration():
    loader = MigrationLoader(None, ignore_no_migrations=True)  # no database: the migration files' state only

    changes = MigrationAutodetector(loader.project_state(), ProjectState.from_apps(apps)).changes(graph=loader.graph)
    assert changes == {}
