"""``zoped simulate`` end to end on the second course: one JSON object, and clear bad input."""

from __future__ import annotations

import json
import sys

import pytest
from typer.testing import CliRunner

from zoped.cli import app, main

from ...conftest import REPO

runner = CliRunner()
SECOND = str(REPO / "zoped" / "content" / "second_course.yaml")


def test_json_report_has_every_policy_and_placement() -> None:
    args = ["simulate", "--framework", SECOND, "--learners", "8", "--seeds", "2"]
    args += ["--families", "strength", "--no-tune", "--budget", "120", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report["policies"]) == {"zoped", "linear", "random", "oracle"}
    for block in report["policies"].values():
        assert {"median_items_to_mastery", "mastery_rate", "retention"} <= set(block)
    assert {"median_questions", "accuracy"} <= set(report["placement"])
    assert report["settings"]["cohort"] == "mixed"
    assert report["settings"]["budget"] == 120


def test_bad_settings_print_every_problem_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["zoped", "simulate", "--framework", SECOND, "--cohort", "adults", "--learners", "1"]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.splitlines()[0] == "error: invalid simulation settings"
    assert "learners: must be at least 2" in err
    assert "cohort: choose from ['mixed', 'new'], got 'adults'" in err


def test_tables_name_the_cohort_and_every_family_and_fit_80_columns() -> None:
    args = ["simulate", "--framework", SECOND, "--learners", "4", "--seeds", "2"]
    args += ["--no-tune", "--budget", "60", "--cohort", "new", "--jobs", "1"]
    result = runner.invoke(app, args, env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    out = result.output
    assert "cohort new, budget 60, 4 learners x 2 seeds" in out
    rows = [line.split() for line in out.splitlines()]
    for family in ("strength", "stage"):
        for policy in ("zoped", "linear", "random", "oracle"):
            # One row in each of the two tables.
            assert sum(r[:2] == [family, policy] for r in rows) == 2
    # Nothing is cut short to fit the terminal.
    assert "…" not in out
    assert "all at once: pooled" in out
    assert "each at least once: pooled" in out
