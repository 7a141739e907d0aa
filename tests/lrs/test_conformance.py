"""ADL's LRS Conformance Test Suite, fast sections: the statement resource and about.

Runs ``scripts/xapi_conformance.sh`` (the suite against ``zoped serve`` on loopback, a fresh
SQLite database and an LRS credential) when node, npm and the suite are present; the whole
1.0.3 run is recorded in bench/results/xapi_conformance.md. ``NODE_MODULES`` may name an
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

SUITE = Path(
    os.environ.get("XAPI_SUITE", REPO.parent / "shared" / "conformance" / "adl-lrs-conformance")
)
SECTIONS = r"Communication 2\.1\)|Communication 2\.8"


@pytest.mark.timeout(900)
def test_the_statement_and_about_sections_of_adls_suite_pass() -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        missing("node and npm run ADL's LRS conformance suite")
    if not (SUITE / "bin" / "console_runner.js").is_file():
        missing(f"ADL's LRS conformance suite is not at {SUITE} (set XAPI_SUITE)")
    zoped = Path(sys.executable).parent / "zoped"
    run = subprocess.run(
        [str(REPO / "scripts" / "xapi_conformance.sh"), "-g", SECTIONS],
        env={**os.environ, "SUITE": str(SUITE), "ZOPED": str(zoped)},
        capture_output=True,
        text=True,
        timeout=840,
        check=False,
    )
    lines = [line for line in run.stdout.splitlines() if line.startswith('{"total"')]
    assert lines, f"no summary from the suite:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    summary = json.loads(lines[-1])
    assert summary["total"] >= 130, summary
    assert summary["failed"] == 0, summary
    assert summary["passed"] == summary["total"], summary
