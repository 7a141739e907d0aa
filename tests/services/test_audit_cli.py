"""``zoped audit prune`` deletes audit entries older than the retention setting, with the
system clock moved to a fixed date (time-machine), and says how many went."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import time_machine
from sqlalchemy import select
from typer.testing import CliRunner

from tests.conftest import REPO
from zoped.cli import app
from zoped.services.audit import record_access
from zoped.services.system import open_database
from zoped.store.tables import audit_log

runner = CliRunner()
TODAY = datetime(2031, 3, 15, 12, 0, tzinfo=UTC)


def _log(tmp_path: Path, days_ago: list[int]) -> str:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    database = open_database(url)
    try:
        with database.session() as session:
            for days in days_ago:
                record_access(
                    session,
                    actor=None,
                    action="read",
                    subject_type="learner",
                    subject_id=f"learner-{days}",
                    now=TODAY - timedelta(days=days),
                )
                session.commit()
    finally:
        database.dispose()
    return url


def _left(url: str) -> list[tuple[str, str | None]]:
    database = open_database(url)
    try:
        with database.session() as session:
            stmt = select(audit_log.c.action, audit_log.c.subject_id).order_by(audit_log.c.id)
            return [(row.action, row.subject_id) for row in session.execute(stmt)]
    finally:
        database.dispose()


def test_prune_keeps_the_retention_and_records_the_prune(tmp_path: Path) -> None:
    url = _log(tmp_path, [400, 31, 29, 0])
    with time_machine.travel(TODAY, tick=False):
        result = runner.invoke(
            app, ["audit", "prune", "--database", url], env={"ZOPED_AUDIT_RETENTION_DAYS": "30"}
        )
    assert result.exit_code == 0, result.output
    assert "pruned 2 audit entries older than 30 days (before 2031-02-13T12:00:00+00:00)" in (
        result.output
    )
    assert _left(url) == [
        ("read", "learner-29"),
        ("read", "learner-0"),
        ("audit.prune", None),
    ]
    with time_machine.travel(TODAY, tick=False):
        again = runner.invoke(
            app, ["audit", "prune", "--db", url], env={"ZOPED_AUDIT_RETENTION_DAYS": "30"}
        )
    assert "pruned 0 audit entries" in again.output
    assert len(_left(url)) == 4  # the first prune's note stays until it is old itself


def test_a_retention_of_zero_prunes_nothing(tmp_path: Path) -> None:
    url = _log(tmp_path, [4000])
    with time_machine.travel(TODAY, tick=False):
        result = runner.invoke(
            app, ["audit", "prune", "--db", url], env={"ZOPED_AUDIT_RETENTION_DAYS": "0"}
        )
    assert result.exit_code == 0, result.output
    assert "keep forever" in result.output
    assert _left(url) == [("read", "learner-4000")]


def test_a_bad_retention_is_one_line(tmp_path: Path) -> None:
    url = _log(tmp_path, [1])
    command = [sys.executable, "-c", "from zoped.cli import main; main()"]
    result = subprocess.run(
        [*command, "audit", "prune", "--db", url],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", "ZOPED_AUDIT_RETENTION_DAYS": "-3"},
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "audit_retention_days" in result.stderr
    assert _left(url) == [("read", "learner-1")]
