"""One `make run` (scripts/run.py's real processes) for the tests that ask for it; stopped with Ctrl-C at the end."""

from __future__ import annotations

import pytest

from docusign_sandbox.seed import INITECH
from tests.embedded.make_run import MakeRun


@pytest.fixture(scope="session")
def make_run(tmp_path_factory) -> MakeRun:
    run = MakeRun(tmp_path_factory.mktemp("make-run") / "var").start()
    yield run
    code = run.stop()
    assert code == 0, f"scripts/run.py ended with {code} after Ctrl-C:\n{run.log()[-3000:]}"
    assert not run.processes(), "Ctrl-C left processes running"


@pytest.fixture(scope="session")
def initech(make_run) -> str:
    """Initech's consent, checked for real (JWT grant + userinfo) by the run's own command; its DocuSign account id."""
    make_run.manage("check_consent", "--org", "initech")
    (account_id,) = make_run.query("SELECT account_id FROM tenants_clientorganization WHERE slug = 'initech'")[0]
    assert account_id == INITECH.account_id
    return account_id
