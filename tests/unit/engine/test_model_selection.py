"""``zoped eval --model auto``: candidates scored on validation learners, the best one tested."""

from __future__ import annotations

import importlib.util
import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from zoped.cli import app
from zoped.engine import registry
from zoped.engine.base import InteractionLog
from zoped.engine.select import CANDIDATES, select_model
from zoped.engine.split import split_by_learner
from zoped.errors import EngineError, InvalidInput

runner = CliRunner()


def item_frame(n_learners: int = 120, seed: int = 0) -> pd.DataFrame:
    """20 items of one skill whose difficulties spread widely: item models beat a skill rate."""
    rng = np.random.default_rng(seed)
    difficulty = np.linspace(-2.5, 2.5, 20)
    rows = []
    for u in range(n_learners):
        ability = rng.normal(0, 0.5)
        for order, q in enumerate(rng.integers(20, size=15)):
            p = 1 / (1 + np.exp(difficulty[q] - ability))
            rows.append((f"u{u}", order, "s", f"q{q}", int(rng.random() < p)))
    return pd.DataFrame(rows, columns=["user", "order", "skill", "item", "correct"])


@pytest.fixture(scope="module")
def csv_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("auto") / "log.csv"
    item_frame().to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def split(csv_path: Path) -> tuple[InteractionLog, InteractionLog]:
    from zoped.engine.logs import column_map, load_log

    log = load_log(csv_path, column_map("learner=user,skill=skill,item=item,correct=correct"))
    return split_by_learner(log, 0.25, np.random.default_rng(0))


def test_the_best_validation_auc_wins_and_is_tested_on_all_training_rows(split):
    train, test = split
    selection = select_model(train, test, candidates=["skillrate", "irt"])
    scores = {c.model: c.valid_auc for c in selection.candidates if c.valid_auc is not None}
    assert scores["irt"] > scores["skillrate"] + 0.1  # item difficulty is most of the signal
    assert selection.winner == "irt"
    assert selection.report.model == "irt"
    assert selection.report.n_train == len(train)  # refitted on every training learner
    assert selection.report.n_test == len(test)
    assert selection.n_fit + selection.n_valid == len(train)
    assert selection.report.auc > 0.7
    out = selection.to_dict()
    assert out["model"] == "irt"
    assert [c["model"] for c in out["candidates"]] == ["skillrate", "irt"]


def test_validation_uses_training_learners_only(split):
    """The test learners take no part in the choice: changing their answers changes no score."""
    train, test = split
    flipped = InteractionLog(**{**test.__dict__, "correct": 1 - test.correct})
    a = select_model(train, test, candidates=["skillrate", "elo"])
    b = select_model(train, flipped, candidates=["skillrate", "elo"])
    assert [c.valid_auc for c in a.candidates] == [c.valid_auc for c in b.candidates]
    assert a.report.auc != b.report.auc


def test_a_missing_dependency_skips_the_candidate_with_a_note(split, monkeypatch):
    monkeypatch.setitem(registry.NEEDS, "irt", "no_such_module_for_zoped")
    selection = select_model(*split, candidates=["skillrate", "irt"])
    skipped = {c.model: c for c in selection.candidates}["irt"]
    assert skipped.valid_auc is None
    assert "needs no_such_module_for_zoped" in skipped.note
    assert selection.winner == "skillrate"
    with pytest.raises(EngineError, match="no candidate model could be scored"):
        select_model(*split, candidates=["irt"])


def test_the_deep_candidates_need_torch_only():
    has_torch = importlib.util.find_spec("torch") is not None
    for name in ("dkt", "sakt", "akt"):
        assert name in CANDIDATES
        assert (registry.missing_dependency(name) is None) == has_torch
    assert registry.missing_dependency("bkt") is None


def test_the_budget_stops_starting_candidates(split):
    ticks = itertools.count(step=10.0)  # every reading of the clock is 10 s later
    selection = select_model(
        *split, candidates=["skillrate", "elo", "irt"], max_seconds=5, clock=lambda: next(ticks)
    )
    notes = {c.model: c.note for c in selection.candidates}
    assert notes["skillrate"] == ""  # the first candidate always runs
    assert notes["elo"].startswith("not run: 5 s spent")
    assert notes["irt"].startswith("not run")
    assert selection.winner == "skillrate"


def test_bad_options_are_refused_together(split):
    with pytest.raises(InvalidInput) as info:
        select_model(*split, candidates=[], valid_fraction=1.0, max_seconds=-1)
    assert {p.location for p in info.value.problems} == {
        "candidates",
        "valid_fraction",
        "max_seconds",
    }


def test_cli_auto_reports_candidates_winner_and_test_figures(csv_path):
    args = ["eval", "--data", str(csv_path), "--columns",
            "learner=user,skill=skill,item=item,correct=correct,order=order",
            "--model", "auto", "--candidates", "skillrate,irt", "--json"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["model"] == "irt"
    assert out["selected_by"] == "validation AUC"
    assert {c["model"] for c in out["candidates"]} == {"skillrate", "irt"}
    assert all(c["valid_auc"] > 0.5 for c in out["candidates"])
    assert out["auc"] > 0.7
    assert out["n_test_learners"] == 24

    table = runner.invoke(app, args[:-1])
    assert table.exit_code == 0, table.output
    assert "irt (winner)" in table.stdout
    assert "validation AUC" in table.stdout


def test_cli_auto_refuses_params_and_unknown_candidates(csv_path):
    base = ["eval", "--data", str(csv_path), "--columns",
            "learner=user,skill=skill,item=item,correct=correct", "--model", "auto"]  # fmt: skip
    result = runner.invoke(app, [*base, "--param", "epochs=2"])
    assert isinstance(result.exception, InvalidInput)
    assert "name that model instead of auto" in str(result.exception.problems)
    result = runner.invoke(app, [*base, "--candidates", "bkt,nonsense"])
    assert isinstance(result.exception, InvalidInput)
    assert "unknown: nonsense" in str(result.exception.problems)
