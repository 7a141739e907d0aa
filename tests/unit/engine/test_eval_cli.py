"""``zoped eval`` end to end: a real fixture from the shared data, and a CSV never seen before."""

from __future__ import annotations

import importlib.util
import json
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from zoped.cli import app, main
from zoped.engine.expanded import merge_expanded_rows
from zoped.engine.logs import load_log
from zoped.engine.registry import available_models
from zoped.errors import InvalidInput

from ...conftest import REPO

KEYS = {"model", "auc", "rmse", "logloss", "accuracy", "ece", "fit_s", "predict_s", "peak_mb",
        "n_train", "n_test"}  # fmt: skip
FIXTURE_COLUMNS = "learner=user_id,skill=skill_id,item=item_id,correct=correct,order=seq_idx"
runner = CliRunner()


def run_json(args):
    result = runner.invoke(app, ["eval", *args, "--json"])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # exactly one JSON object, nothing else


@pytest.fixture(scope="module")
def fixture_files(shared_data, tmp_path_factory):
    spec = importlib.util.spec_from_file_location(
        "make_fixtures", REPO / "scripts" / "make_fixtures.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_fixture(shared_data, tmp_path_factory.mktemp("fixture"))


def available(name):
    return any(m.name == name and m.available for m in available_models())


def test_list_models():
    result = runner.invoke(app, ["eval", "--list-models", "--json"])
    assert result.exit_code == 0
    models = {m["name"]: m for m in json.loads(result.stdout)}
    assert models["skillrate"]["available"] is True
    assert {"bkt", "elo", "irt", "irt2pl", "lr", "das3h", "dkt", "sakt"} <= set(models)
    for entry in models.values():
        assert entry["available"] or entry["reason"]
    table = runner.invoke(app, ["eval", "--list-models"])
    assert "skillrate" in table.stdout


@pytest.mark.data
def test_baseline_on_real_fixture_with_split_file(fixture_files):
    out = run_json(
        ["--data", str(fixture_files["data"]), "--columns", FIXTURE_COLUMNS,
         "--model", "skillrate", "--split-file", str(fixture_files["split_file"])]
    )  # fmt: skip
    assert set(out) >= KEYS
    assert out["model"] == "skillrate"
    assert out["auc"] > 0.6
    assert 0 < out["rmse"] < 0.5
    assert out["n_train"] + out["n_test"] == 4333
    assert out["n_test_learners"] == len(fixture_files["split_file"].read_text().split())


@pytest.mark.data
@pytest.mark.parametrize("model", ["bkt", "elo", "irt", "lr"])
def test_written_models_beat_chance_on_real_fixture(fixture_files, model):
    assert available(model), f"model {model} does not import"
    out = run_json(
        ["--data", str(fixture_files["data"]), "--columns", FIXTURE_COLUMNS,
         "--model", model, "--split", "learner:0.25", "--seed", "3"]
    )  # fmt: skip
    assert set(out) >= KEYS
    assert out["auc"] > 0.6, out


def write_unseen_csv(path, n_learners=150, seed=0):
    """Tab-separated, odd column names, true/false outcomes, ISO times, two-skill cells."""
    rng = np.random.default_rng(seed)
    easiness = np.array([1.5, 0.5, 0.0, -0.7, -1.5])
    lines = ["Pupil #\tCompetency (code)\tGot it?\tWhen"]
    for pupil in range(n_learners):
        ability = rng.normal()
        for k in range(20):
            skills = rng.choice(5, size=rng.integers(1, 3), replace=False)
            p = 1 / (1 + np.exp(-(ability + easiness[skills].mean() + 0.05 * k)))
            ok = "TRUE" if rng.random() < p else "false"
            cell = "|".join(f"C{s}" for s in skills)
            minute = 20 - k  # written in reverse time: the loader must sort by time
            lines.append(f"p-{pupil}\t{cell}\t{ok}\t2024-03-01T10:{minute:02d}:00+00:00")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_unseen_csv_with_unusual_columns(tmp_path):
    path = write_unseen_csv(tmp_path / "pupils.tsv")
    out = run_json(
        ["--data", str(path), "--skill-sep", "|",
         "--columns", "learner=Pupil #,skill=Competency (code),correct=Got it?,timestamp=When",
         "--model", "skillrate", "--param", "skill_smoothing=5"]
    )  # fmt: skip
    assert out["n_train"] + out["n_test"] == 150 * 20
    assert out["n_test_learners"] == 30
    assert out["params"] == {"skill_smoothing": "5"}
    assert out["auc"] > 0.65


def test_merge_expanded_scores_a_multi_skill_response_once(tmp_path):
    """The same answers written once per skill, with an item column: merged, they are the
    rows of the original file again; not merged, every copy is one more row to score."""
    path = write_unseen_csv(tmp_path / "pupils.tsv", n_learners=40)
    lines = path.read_text(encoding="utf-8").splitlines()
    expanded = ["Pupil #\tCompetency (code)\tGot it?\tWhen\tQuestion"]
    for n, line in enumerate(lines[1:]):
        pupil, cell, ok, when = line.split("\t")
        expanded += [f"{pupil}\t{skill}\t{ok}\t{when}\tq{n % 7}" for skill in cell.split("|")]
    path.write_text("\n".join(expanded) + "\n", encoding="utf-8")
    columns = "learner=Pupil #,skill=Competency (code),item=Question,correct=Got it?,timestamp=When"
    args = ["--data", str(path), "--model", "skillrate", "--columns", columns]
    as_rows = run_json(args)
    merged = run_json([*args, "--merge-expanded"])
    assert as_rows["n_train"] + as_rows["n_test"] == len(expanded) - 1 > 40 * 20
    assert merged["n_train"] + merged["n_test"] == 40 * 20
    copies = len(expanded) - 1 - 40 * 20
    assert merged["protocol"].endswith(f", {copies} copies of multi-skill responses merged")
    assert f", {copies} rows repeat the row before them" in as_rows["protocol"]
    assert "--merge-expanded" in as_rows["protocol"]


@pytest.mark.data
def test_akt_assistments_2009_holds_51069_copies(shared_data):
    log = load_log(
        shared_data / "assist2009_skillbuilder_akt_pid/interactions_long.csv.gz",
        FIXTURE_COLUMNS,
    )
    merged = merge_expanded_rows(log)
    assert (len(log), len(merged), merged.meta["merged_copies"]) == (325637, 274568, 51069)
    assert int(merged.n_skills_per_row.max()) > 1


def test_separate_test_file(tmp_path):
    train = write_unseen_csv(tmp_path / "train.tsv", n_learners=80, seed=1)
    test = write_unseen_csv(tmp_path / "test.tsv", n_learners=20, seed=2)
    test.write_text(test.read_text().replace("p-", "q-"), encoding="utf-8")
    out = run_json(
        ["--data", str(train), "--test-data", str(test), "--skill-sep", "|",
         "--columns", "learner=Pupil #,skill=Competency (code),correct=Got it?",
         "--model", "skillrate"]
    )  # fmt: skip
    assert (out["n_train"], out["n_test"]) == (1600, 400)
    assert out["protocol"] == "train file train.tsv, test file test.tsv"


def test_table_output(tmp_path):
    path = write_unseen_csv(tmp_path / "pupils.tsv", n_learners=30)
    result = runner.invoke(
        app,
        ["eval", "--data", str(path), "--model", "skillrate",
         "--columns", "learner=Pupil #,skill=Competency (code),correct=Got it?"],
    )  # fmt: skip
    assert result.exit_code == 0
    assert "auc" in result.stdout
    assert "n_test" in result.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--model", "skillrate"], "--data: is required"),
        (
            ["--model", "nope", "--data", "x", "--columns", "learner=a,skill=b,correct=c"],
            "unknown model 'nope'",
        ),
        (
            [
                "--model",
                "skillrate",
                "--param",
                "bogus=1",
                "--data",
                "x",
                "--columns",
                "learner=a,skill=b,correct=c",
            ],
            "unknown for skillrate",
        ),
        (
            [
                "--model",
                "skillrate",
                "--data",
                "DATA",
                "--columns",
                "learner=who,skill=b,correct=c",
            ],
            "no such column",
        ),
        (
            [
                "--model",
                "skillrate",
                "--data",
                "DATA",
                "--split",
                "learner:2",
                "--columns",
                "learner=Pupil #,skill=Competency (code),correct=Got it?",
            ],
            "strictly between 0 and 1",
        ),
    ],
)
def test_user_errors_are_invalid_input(tmp_path, args, needle):
    data = write_unseen_csv(tmp_path / "d.tsv", n_learners=5)
    args = [str(data) if a == "DATA" else a for a in args]
    result = runner.invoke(app, ["eval", *args])
    assert isinstance(result.exception, InvalidInput)
    assert needle in str(result.exception)


def test_main_prints_one_clear_line_and_exits_2(tmp_path, monkeypatch, capsys):
    data = write_unseen_csv(tmp_path / "d.tsv", n_learners=5)
    monkeypatch.setattr(
        sys, "argv",
        ["zoped", "eval", "--data", str(data), "--model", "skillrate",
         "--columns", "learner=Pupil,skill=Competency (code),correct=Got it?"],
    )  # fmt: skip
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.splitlines()[0].startswith("error: the column mapping names columns")
    assert "'Pupil #'" in err


# --- the pieces behind the command: baseline, registry, evaluate ------------------------------


@pytest.fixture
def small_log(tmp_path):
    from zoped.engine.logs import load_log

    path = write_unseen_csv(tmp_path / "d.tsv", n_learners=40, seed=5)
    return load_log(path, "learner=Pupil #,skill=Competency (code),correct=Got it?", "|")


def test_skillrate_online_replay_equals_batch(small_log, tmp_path):
    from zoped.engine.base import Interaction, LearnerModel
    from zoped.engine.baseline import SkillRate

    model = SkillRate().fit(small_log)
    assert isinstance(model, LearnerModel)
    batch = model.predict_proba(small_log)
    online = []
    state = None
    for r in range(len(small_log)):
        if r == 0 or small_log.learner[r] != small_log.learner[r - 1]:
            state = model.new_state()
        skills = small_log.skill_idx[small_log.skill_ptr[r] : small_log.skill_ptr[r + 1]]
        event = Interaction(tuple(int(s) for s in skills), bool(small_log.correct[r]))
        assert state is not None
        online.append(model.predict_one(state, event))
        state = model.update(state, event)
    np.testing.assert_allclose(online, batch, rtol=1e-12)
    model.save(tmp_path / "m.json")
    again = SkillRate.load(tmp_path / "m.json")
    np.testing.assert_allclose(again.predict_proba(small_log), batch)


def test_skillrate_learns_from_the_learner(small_log):
    from zoped.engine.base import Interaction
    from zoped.engine.baseline import SkillRate
    from zoped.errors import NotFitted

    with pytest.raises(NotFitted):
        SkillRate().predict_proba(small_log)
    model = SkillRate(prior_strength=4).fit(small_log)
    event = Interaction((0,), True)
    state = model.new_state()
    right = model.update(state, event)
    wrong = model.update(state, Interaction((0,), False))
    assert model.predict_one(right, event) > model.predict_one(state, event)
    assert model.predict_one(wrong, event) < model.predict_one(state, event)
    with pytest.raises(InvalidInput):
        SkillRate(prior_strength=0)


def test_make_model_converts_params_and_reports_bad_ones():
    from zoped.engine.baseline import SkillRate
    from zoped.engine.registry import make_model, parse_params

    model = make_model("skillrate", {"prior_strength": "3", "skill_smoothing": "2.5"}, seed=4)
    assert isinstance(model, SkillRate)
    assert model.prior_strength == 3.0
    assert model.skill_smoothing == 2.5
    assert model.seed == 4
    no_prior = make_model("skillrate", {"prior_strength": "none"})
    assert isinstance(no_prior, SkillRate)
    assert no_prior.prior_strength is None
    with pytest.raises(InvalidInput) as info:
        make_model("skillrate", {"skill_smoothing": "lots", "nope": "1"})
    assert len(info.value.problems) == 2
    assert parse_params(["a=1", "b = x"]) == {"a": "1", "b": "x"}
    with pytest.raises(InvalidInput):
        parse_params(["a=1", "a=2", "oops"])


def test_evaluate_uses_the_given_clock_and_checks_predictions(small_log):
    from zoped.engine.baseline import SkillRate
    from zoped.engine.evaluate import evaluate
    from zoped.errors import EngineError

    ticks = iter([10.0, 12.5, 13.0])
    train = small_log.take_rows(np.flatnonzero(small_log.learner < 30))
    test = small_log.take_rows(np.flatnonzero(small_log.learner >= 30))
    report = evaluate(SkillRate(), train, test, clock=lambda: next(ticks))
    assert (report.fit_s, report.predict_s) == (2.5, 0.5)
    assert (report.n_train, report.n_test) == (600, 200)
    assert (report.n_train_learners, report.n_test_learners) == (30, 10)
    assert report.peak_mb > 0

    class Broken(SkillRate):
        def predict_proba(self, log):
            return np.full(len(log), 1.5)

    with pytest.raises(EngineError, match="outside"):
        evaluate(Broken(), train, test)
    with pytest.raises(InvalidInput):
        evaluate(SkillRate(), train, test.take_rows(np.array([], dtype=np.int64)))


def write_dkt_lines(path, n_learners=60, length=12, seed=0):
    """A DKT three-line file whose learners improve on two skills."""
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(n_learners):
        skills = rng.integers(0, 2, size=length)
        ok = (rng.random(length) < np.linspace(0.3, 0.9, length)).astype(int)
        lines += [str(length), ",".join(map(str, skills)), ",".join(map(str, ok))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_dkt_lines_layout_needs_no_column_map(tmp_path):
    path = write_dkt_lines(tmp_path / "seqs.csv")
    out = run_json(["--data", str(path), "--layout", "dkt-lines", "--model", "skillrate"])
    assert out["layout"] == "dkt-lines"
    assert (out["n_train"], out["n_test"]) == (48 * 12, 12 * 12)


def test_wide_layout_over_a_glob_of_files(tmp_path):
    rng = np.random.default_rng(3)
    for name in ("form_a", "form_b"):
        ability = rng.normal(size=(40, 1))
        ok = (rng.random((40, 6)) < 1 / (1 + np.exp(-(ability - np.linspace(-1, 1, 6))))).astype(
            int
        )
        rows = [f"p{k},{','.join(map(str, r))}" for k, r in enumerate(ok)]
        text = "person," + ",".join(f"i{j}" for j in range(6)) + "\n" + "\n".join(rows) + "\n"
        (tmp_path / f"{name}.csv").write_text(text, encoding="utf-8")
    out = run_json(
        ["--data", str(tmp_path / "*.csv"), "--layout", "wide", "--model", "skillrate",
         "--columns", "learner=person,item=source+item"]
    )  # fmt: skip
    # Person ids repeat across the forms, so the same id is the same person: 40 learners.
    assert out["n_train_learners"] + out["n_test_learners"] == 40
    assert out["n_train"] + out["n_test"] == 2 * 40 * 6


def test_long_layout_still_requires_columns(tmp_path):
    path = write_dkt_lines(tmp_path / "seqs.csv", n_learners=5)
    result = runner.invoke(app, ["eval", "--data", str(path), "--model", "skillrate"])
    assert isinstance(result.exception, InvalidInput)
    assert "--columns: is required" in str(result.exception)
