"""TEMPORARY: tests/sandbox/ (a package) shadows tests/sandbox.py, so the root `sandbox` fixture cannot import
`running_sandbox`. Load the module from its file until that clash is resolved; then delete this file."""

import importlib.util
import sys
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("tests_sandbox_module", Path(__file__).parents[1] / "sandbox.py")
_module = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _module
_spec.loader.exec_module(_module)


@pytest.fixture
def sandbox(transactional_db, settings):
    with _module.running_sandbox(settings) as info:
        yield info
