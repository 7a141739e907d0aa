"""``zoped validate course`` and ``zoped import course`` through Typer's test runner."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from tests.factories import T0
from tests.unit.domain.test_course_file import VALID_YAML
from zoped.cli import course as course_cli
from zoped.domain import School
from zoped.services.courses import get_course
from zoped.services.roster import create_school
from zoped.services.system import open_database

runner = CliRunner()
# Only this module's commands, so these tests do not depend on the other command groups.
app = typer.Typer()
course_cli.register(app)

BROKEN_YAML = (
    VALID_YAML.replace(
        "{id: frac.unit, title: Unit fractions, parent: frac}",
        "{id: frac.unit, title: Unit fractions, parent: frac, prerequisites: [frac.add]}",
    )
    .replace(
        "competencies: [frac.unit]\n    minutes: 15", "competencies: [frac.ghost]\n    minutes: 15"
    )
    .replace('{id: b, text: "1/3", correct: false}', '{id: b, text: "1/3", correct: true}')
)


@pytest.fixture
def write(tmp_path: Path):
    def _write(text: str) -> Path:
        path = tmp_path / "course.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    return _write


def test_validate_a_valid_file(write) -> None:
    result = runner.invoke(app, ["validate", "course", str(write(VALID_YAML))])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "ok: 3 competencies, 2 activities, 5 items, 1 rubrics"


def test_validate_lists_every_problem_and_exits_2(write) -> None:
    result = runner.invoke(app, ["validate", "course", str(write(BROKEN_YAML))])
    assert result.exit_code == 2
    output = result.output
    assert "invalid course file" in output
    assert (
        "competencies[1].prerequisites (line 9): 'frac.unit' is on a prerequisite cycle" in output
    )
    assert (
        "competencies[2].prerequisites (line 10): 'frac.add' is on a prerequisite cycle" in output
    )
    assert "activities[0].competencies[0] (line 15): unknown competency 'frac.ghost'" in output
    assert (
        "items[0].options (line 31): a single_choice item needs exactly one correct option"
        in output
    )
    assert output.count("\n  - ") == 4


def test_validate_a_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", "course", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "cannot read the course file" in result.output


def test_import_refuses_an_invalid_file_before_touching_a_database(write, tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    result = runner.invoke(
        app,
        ["import", "course", str(write(BROKEN_YAML)), "--school", "s", "--db", f"sqlite:///{db}"],
    )
    assert result.exit_code == 2
    assert "unknown competency 'frac.ghost'" in result.output
    assert not db.exists()


def _school_database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'school.db'}"
    database = open_database(url)
    with database.session() as session:
        create_school(session, school=School("hill", "Hill School"), now=T0)
    database.dispose()
    return url


def test_import_writes_through_the_service_and_replaces_on_reimport(write, tmp_path: Path) -> None:
    path, url = write(VALID_YAML), _school_database(tmp_path)
    command = ["import", "course", str(path), "--school", "hill", "--db", url]
    first = runner.invoke(app, command)
    assert first.exit_code == 0, first.output
    assert "imported course 'fractions' (stored as 'fractions'): 3 competencies" in first.output
    again = runner.invoke(app, command)
    assert again.exit_code == 0, again.output
    assert "replaced course 'fractions'" in again.output


def test_a_reimport_that_removes_content_needs_yes_and_a_dry_run_writes_nothing(
    write, tmp_path: Path
) -> None:
    url = _school_database(tmp_path)
    base = ["import", "course", "--school", "hill", "--db", url]
    assert runner.invoke(app, [*base, str(write(VALID_YAML))]).exit_code == 0
    # The second activity (and nothing else) is gone from the new version.
    start = VALID_YAML.index("  - id: act.recipe")
    end = VALID_YAML.index("items:")
    smaller = write(VALID_YAML[:start] + VALID_YAML[end:])
    dry = runner.invoke(app, [*base, "--dry-run", str(smaller)])
    assert dry.exit_code == 0, dry.output
    assert "removed activity act.recipe" in dry.output
    assert "dry run: nothing written" in dry.output
    refused = runner.invoke(app, [*base, str(smaller)])
    assert refused.exit_code == 2
    assert "run again with --yes" in refused.output
    database = open_database(url)
    with database.session() as session:
        assert len(get_course(session, course_id="fractions").activities) == 2
    database.dispose()
    applied = runner.invoke(app, [*base, "--yes", str(smaller)])
    assert applied.exit_code == 0, applied.output
    database = open_database(url)
    with database.session() as session:
        assert [a.id for a in get_course(session, course_id="fractions").activities] == [
            "act.strips"
        ]
    database.dispose()


def test_import_names_an_existing_school(write, tmp_path: Path) -> None:
    url = _school_database(tmp_path)
    result = runner.invoke(
        app, ["import", "course", str(write(VALID_YAML)), "--school", "elsewhere", "--db", url]
    )
    assert result.exit_code == 2
    assert "no school 'elsewhere'" in result.output
