"""scripts/run.py's supervision: a process that dies is started again, later each time it keeps dying quickly."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def run_py(monkeypatch):
    spec = importlib.util.spec_from_file_location("make_run_script", ROOT / "scripts" / "run.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "RESTART_WAITS", (0.1, 0.3, 0.6))
    return module


def supervise(process, until: int, timeout: float = 30) -> list[float]:
    """Reap and restart `process` until it has died `until` times; the waits between a death and its restart."""
    waits, died_at = [], None
    deadline = time.monotonic() + timeout
    while len(waits) < until and time.monotonic() < deadline:
        if process.reap():
            died_at = time.monotonic()
        if process.process is None and time.monotonic() >= process.start_at:
            process.restart_when_due()
            waits.append(time.monotonic() - died_at)
        time.sleep(0.01)
    return waits


def test_a_process_that_keeps_dying_is_restarted_each_time_after_a_longer_wait(run_py, capsys):
    crasher = run_py.Supervised("worker", [sys.executable, "-c", "raise SystemExit(3)"])
    crasher.start()

    waits = supervise(crasher, until=4)

    assert waits == pytest.approx([0.1, 0.3, 0.6, 0.6], abs=0.1)
    out = capsys.readouterr().out
    assert out.count("worker (pid ") == 4 and out.count("died with exit code 3") == 4
    assert "died 2 times in a row" in out and "died 4 times in a row" in out and out.count("worker restarted (pid ") == 4
    crasher.process.wait(5)


def test_a_process_that_had_run_for_a_while_is_restarted_after_the_shortest_wait(run_py, monkeypatch, capsys):
    monkeypatch.setattr(run_py, "RESTART_WINDOW", 0.5)
    sleeper = run_py.Supervised("sandbox", [sys.executable, "-c", "import time; time.sleep(1)"])
    sleeper.start()

    waits = supervise(sleeper, until=2)

    assert waits == pytest.approx([0.1, 0.1], abs=0.1)
    assert "in a row" not in capsys.readouterr().out
    sleeper.process.kill()
    sleeper.process.wait(5)
