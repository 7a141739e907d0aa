"""``zoped import oneroster`` through Typer's test runner, on a SQLite file."""

from __future__ import annotations

from pathlib import Path

import typer
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests import oneroster_bundles as ob
from zoped.cli import course as course_cli
from zoped.cli import imports as imports_cli
from zoped.services.system import open_database
from zoped.store.tables import roster_records, users

runner = CliRunner()
# Only the import group, so these tests do not depend on the other command groups.
app = typer.Typer()
course_cli.register(app)
imports_cli.register(app)


def invoke(*args: str):
    return runner.invoke(app, ["import", "oneroster", *args])


def count(url: str, table) -> int:
    database = open_database(url, migrate=False)
    try:
        with database.session() as session:
            return session.scalar(select(func.count()).select_from(table)) or 0
    finally:
        database.dispose()


def test_a_folder_imports_then_imports_again_with_no_change(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'z.db'}"
    folder = ob.school_bundle().write(tmp_path / "export")
    first = invoke(str(folder), "--db", url)
    assert first.exit_code == 0, first.output
    lines = first.output.splitlines()
    assert lines[0].startswith("imported OneRoster 1.2 into new school s1 (org bulk, ")
    assert lines[1].split() == [
        "created",
        "updated",
        "unchanged",
        "deactivated",
        "removed",
        "skipped",
    ]
    rows = {line[:17].strip(): line[17:].split() for line in lines[2:]}
    assert rows["users"] == ["5", "0", "0", "0", "0", "0"]
    assert rows["guardian links"] == ["1", "0", "0", "0", "0", "0"]
    assert count(url, users) == 5
    second = invoke(str(folder), "--database", url)
    assert second.exit_code == 0, second.output
    assert second.output.splitlines()[-1] == "nothing changed"
    assert count(url, users) == 5


def test_a_dry_run_writes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'z.db'}"
    archive = tmp_path / "bundle.zip"
    archive.write_bytes(ob.school_bundle().zip_bytes())
    result = invoke(str(archive), "--dry-run", "--db", url)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("would import OneRoster 1.2 into new school s1")
    assert "dry run: nothing was written" in result.output
    assert count(url, users) == 0
    assert count(url, roster_records) == 0


def test_a_broken_bundle_prints_one_line_per_problem_and_exits_2(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'z.db'}"
    broken = (
        ob.school_bundle()
        .edit("users.csv", "givenName", "givneName")
        .edit("enrollments.csv", "e2,,,math5-a", "e2,,,math5-z")
    )
    archive = tmp_path / "broken.zip"
    archive.write_bytes(broken.zip_bytes())
    result = invoke(str(archive), "--db", url)
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        "error: invalid OneRoster bundle; nothing was imported",
        "  - users.csv line 1 column givneName: unknown column 'givneName': did you mean "
        "'givenName'?",
        "  - enrollments.csv line 3 column classSourcedId: no class 'math5-z' in classes.csv",
    ]
    assert "Traceback" not in result.output
    assert count(url, users) == 0


def test_an_unknown_school_or_a_missing_file_is_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'z.db'}"
    folder = ob.school_bundle().write(tmp_path / "export")
    result = invoke(str(folder), "--school", "nowhere", "--db", url)
    assert (result.exit_code, result.output) == (2, "error: no school 'nowhere'\n")
    result = invoke(str(tmp_path / "missing.zip"), "--db", url)
    assert result.exit_code == 2
    assert result.output.splitlines()[1].endswith("missing.zip: no such file or folder")
