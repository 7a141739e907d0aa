"""ADL's LRS Conformance Test Suite: every test of its xAPI 1.0.3 run and of its xAPI 2.0.0 run
passes.

Runs ``scripts/xapi_conformance.sh`` (the suite against ``zoped serve`` on loopback, a fresh
SQLite database and an LRS credential) when node, npm and the suite are present (each whole run
takes one to two minutes when every test passes: a failing one waits out the suite's 15 s
timeout);
the summary is recorded in bench/results/xapi_conformance.md. ``NODE_MODULES`` may name an
installed copy of the suite's node_modules (else npm installs it, which needs the registry).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, missing

#: Beside the shared datasets (``ZOPED_DATA_DIR``, default ``../shared/data``), unless
#: ``XAPI_SUITE`` says where.
SHARED = Path(os.environ.get("ZOPED_DATA_DIR", REPO.parent / "shared" / "data")).parent
SUITE = Path(os.environ.get("XAPI_SUITE", SHARED / "conformance" / "adl-lrs-conformance"))
#: The tests of the suite's 1.0.3 run (commit 2ec25f2).
ALL_TESTS = 1365
#: The tests of the suite's 2.0.0 run (commit 2ec25f2, test/v2_0).
ALL_TESTS_2_0 = 1442


@pytest.mark.timeout(900)
def test_every_test_of_adls_suite_passes() -> None:
    _every_test_passes("1.0.3", ALL_TESTS)


@pytest.mark.timeout(900)
def test_every_test_of_adls_xapi_2_0_run_passes() -> None:
    _every_test_passes("2.0.0", ALL_TESTS_2_0)


def _every_test_passes(version: str, count: int) -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        missing("node and npm run ADL's LRS conformance suite")
    if not (SUITE / "bin" / "console_runner.js").is_file():
        missing(f"ADL's LRS conformance suite is not at {SUITE} (set XAPI_SUITE)")
    zoped = Path(sys.executable).parent / "zoped"
    run = subprocess.run(
        [str(REPO / "scripts" / "xapi_conformance.sh")],
        env={**os.environ, "SUITE": str(SUITE), "ZOPED": str(zoped), "XAPI_VERSION": version},
        capture_output=True,
        text=True,
        timeout=840,
        check=False,
    )
    lines = [line for line in run.stdout.splitlines() if line.startswith('{"total"')]
    assert lines, f"no summary from the suite:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    summary = json.loads(lines[-1])
    assert summary["total"] == count, summary
    assert summary["version"] == version, summary
    assert summary["failed"] == 0, summary
    assert summary["passed"] == summary["total"], summary
