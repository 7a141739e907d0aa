"""``zoped import case`` and ``zoped export case`` through Typer's test runner, on a SQLite
file: located errors and exit 2 with nothing written, quirks listed, a second import that
changes nothing, --dry-run, and an export that imports into another school unchanged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from typer.testing import CliRunner

from tests import factories as f
from tests.case.packages import fractions
from zoped.cli import app
from zoped.services.roster import create_school
from zoped.services.system import open_database
from zoped.store.tables import audit_log, case_frameworks, competencies

runner = CliRunner()


def _database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'z.db'}"
    database = open_database(url)
    try:
        with database.session() as session:
            create_school(session, school=f.school(), now=f.T0)
            create_school(session, school=f.school(id="school-2", name="Two"), now=f.T0)
    finally:
        database.dispose()
    return url


def _count(url: str, table) -> int:
    database = open_database(url, migrate=False)
    try:
        with database.session() as session:
            return session.scalar(select(func.count()).select_from(table)) or 0
    finally:
        database.dispose()


def _write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(json.dumps(data), "utf-8")
    return path


def test_a_broken_package_exits_2_with_located_errors_and_writes_nothing(tmp_path: Path) -> None:
    url = _database(tmp_path)
    data = fractions()
    data["CFItems"][2]["identifier"] = "nope"
    data["CFAssociations"][0]["sequenceNumber"] = "first"
    result = runner.invoke(
        app,
        [
            "import",
            "case",
            str(_write(tmp_path / "b.json", data)),
            "--school",
            "school-1",
            "--db",
            url,
        ],
    )
    assert result.exit_code == 2
    assert "invalid CASE 1.0 package" in result.output
    assert "CFItems[2].identifier: 'nope'" in result.output
    assert "CFAssociations[0].sequenceNumber" in result.output
    assert _count(url, competencies) == 0
    assert _count(url, case_frameworks) == 0


def test_import_lists_quirks_then_a_second_import_changes_nothing(tmp_path: Path) -> None:
    url = _database(tmp_path)
    data = {"CFPackage": fractions()}
    data["CFPackage"]["CFAssociations"][1]["sequenceNumber"] = "1"
    path = _write(tmp_path / "p.json", data)
    args = ["import", "case", str(path), "--school", "school-1", "--db", url]
    dry = runner.invoke(app, [*args, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "dry run: nothing written" in dry.output
    assert _count(url, competencies) == 0
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "new course 'example-mathematics-standards' in school 'school-1'" in first.output
    assert "tolerated: 1 number-as-string, 1 wrapped" in first.output
    assert "CFAssociations[1].sequenceNumber: the string '1' read as a number" in first.output
    audit = _count(url, audit_log)
    second = runner.invoke(app, args)
    assert second.exit_code == 0, second.output
    assert "nothing changed: nothing written" in second.output
    assert _count(url, audit_log) == audit
    assert _count(url, competencies) == 4


def test_the_export_imports_into_another_school_as_the_same_framework(tmp_path: Path) -> None:
    url = _database(tmp_path)
    path = _write(tmp_path / "p.json", fractions())
    assert (
        runner.invoke(
            app, ["import", "case", str(path), "--school", "school-1", "--db", url]
        ).exit_code
        == 0
    )
    out = tmp_path / "out.json"
    exported = runner.invoke(
        app,
        [
            "export",
            "case",
            "--course",
            "example-mathematics-standards",
            "-o",
            str(out),
            "--version",
            "1.0",
            "--db",
            url,
        ],
    )
    assert exported.exit_code == 0, exported.output
    assert "CASE 1.0, 4 items" in exported.output
    again = runner.invoke(app, ["import", "case", str(out), "--school", "school-2", "--db", url])
    assert again.exit_code == 0, again.output
    assert "tolerated" not in again.output
    database = open_database(url, migrate=False)
    try:
        with database.session() as session:
            rows = session.execute(
                select(competencies.c.course_id, competencies.c.id).order_by(competencies.c.id)
            ).all()
    finally:
        database.dispose()
    by_course: dict[str, list[str]] = {}
    for course_id, cid in rows:
        by_course.setdefault(course_id, []).append(cid)
    assert len(by_course) == 2
    first, second = by_course.values()
    assert first == second
    missing = runner.invoke(
        app, ["export", "case", "--course", "nope", "-o", str(out), "--db", url]
    )
    assert missing.exit_code == 2
    assert "no course 'nope'" in missing.output
