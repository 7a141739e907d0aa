"""The attack probe of issue 16, replayed over HTTP against a real ``zoped demo`` on loopback
(bench/attack.py): every check holds, within its time budget."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_the_probe_replayed_against_a_running_server_finds_nothing() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "attack.py"), "--budget-s", "240"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("ok  ") == 9, done.stdout
