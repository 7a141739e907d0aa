"""CLI command ``zoped eval``: fit a learner model on a log file and score it on held-out learners.

Example::

    zoped eval --data interactions.csv.gz \\
        --columns learner=user_id,skill=skill_id,item=item_id,correct=correct,order=seq_idx \\
        --model bkt --split learner:0.2 --seed 0 --json
    zoped eval --data A2012_skill_id_test.csv --layout dkt-lines --model bkt
    zoped eval --data 'glops/*.csv' --columns learner=user_id,skill=source,correct=correct \
        --model bkt
    zoped eval --data log.csv --columns learner=user_id,skill=skill_id,correct=correct \
        --model auto --max-seconds 600   # the best model on a validation split, then its test
    zoped eval --data akt_2009.csv.gz --columns ... --model akt --merge-expanded
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from zoped.engine.base import InteractionLog
from zoped.engine.evaluate import EvalReport, evaluate
from zoped.engine.expanded import expanded_copies, merge_expanded_rows
from zoped.engine.logs import Layout, column_map, load_log, load_logs
from zoped.engine.registry import MODELS, available_models, make_model, parse_params
from zoped.engine.select import CANDIDATES, Selection, select_model
from zoped.engine.split import parse_split, read_split_file, split_by_ids, split_by_learner
from zoped.errors import InvalidInput, Problem

console = Console()


def prepare_split(
    data: Path,
    columns: str | None,
    *,
    layout: Layout | str = Layout.LONG,
    skill_sep: str | None = None,
    split: str = "learner:0.2",
    split_file: Path | None = None,
    test_data: Path | None = None,
    seed: int = 0,
    merge_expanded: bool = False,
) -> tuple[InteractionLog, InteractionLog, str]:
    """Load the data and split it as the options say; also return the protocol in words.

    ``data`` and ``test_data`` may be files, folders or globs; ``columns`` may be None for the
    ``dkt-lines`` and ``wide`` layouts (their default maps apply). With ``merge_expanded``,
    a response stored once per skill becomes one row (:func:`merge_expanded_rows`).

    Raises:
        InvalidInput: conflicting options, or any problem reading the data or the split.
    """
    colmap = column_map(columns, layout)
    if test_data is not None and split_file is not None:
        raise InvalidInput(
            "conflicting options",
            [Problem("--test-data", "give either --test-data or --split-file, not both")],
        )
    if test_data is not None:
        train, test = load_logs([data, test_data], colmap, skill_sep, layout=layout)
        protocol = f"train file {data.name}, test file {test_data.name}"
    else:
        log = load_log(data, colmap, skill_sep, layout=layout)
        if split_file is not None:
            train, test = split_by_ids(log, read_split_file(split_file, colmap.learner))
            protocol = f"test learners listed in {split_file.name}"
        else:
            fraction = parse_split(split).test_fraction
            train, test = split_by_learner(log, fraction, np.random.default_rng(seed))
            protocol = f"learner:{fraction} seed {seed}"
    if merge_expanded:
        train, test = merge_expanded_rows(train), merge_expanded_rows(test)
        merged = train.meta.get("merged_copies", 0) + test.meta.get("merged_copies", 0)
        protocol += f", {merged} copies of multi-skill responses merged"
    elif copies := int(expanded_copies(train).sum() + expanded_copies(test).sum()):
        protocol += (
            f", {copies} rows repeat the row before them (a multi-skill response written once "
            "per skill?): --merge-expanded scores each response once"
        )
    return train, test, protocol


def _print_models() -> None:
    table = Table(title="learner models")
    table.add_column("name")
    table.add_column("class")
    table.add_column("available")
    for entry in available_models():
        table.add_row(entry.name, entry.target, "yes" if entry.available else f"no: {entry.reason}")
    console.print(table)


def _print_report(report: EvalReport, protocol: str, data: Path) -> None:
    table = Table(title=f"{report.model} on {data.name} ({protocol})")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in report.to_dict().items():
        if key == "model":
            continue
        shown = "n/a" if value is None else f"{value:.4f}" if isinstance(value, float) else value
        table.add_row(key, str(shown))
    console.print(table)


def _print_selection(selection: Selection, protocol: str, data: Path) -> None:
    table = Table(
        title=f"candidates on a validation split of the training learners "
        f"({selection.valid_fraction:g} of them: {selection.n_valid} rows; "
        f"fitted on {selection.n_fit} rows)"
    )
    table.add_column("model")
    table.add_column("validation AUC", justify="right")
    table.add_column("fit + predict s", justify="right")
    table.add_column("note")
    for c in selection.candidates:
        auc = "—" if c.valid_auc is None else f"{c.valid_auc:.4f}"
        seconds = "—" if c.fit_s is None else f"{c.fit_s:.1f}"
        mark = " (winner)" if c.model == selection.winner else ""
        table.add_row(c.model + mark, auc, seconds, c.note)
    console.print(table)
    console.print(f"winner: {selection.winner}, refitted on all training learners")
    _print_report(selection.report, protocol, data)


def _candidates(text: str | None) -> list[str]:
    """The --candidates names (default: all of CANDIDATES), each a registered model."""
    names = [n.strip() for n in text.split(",") if n.strip()] if text else list(CANDIDATES)
    unknown = [n for n in names if n not in MODELS]
    if unknown or not names:
        given = ", ".join(unknown) or "none given"
        known = ", ".join(sorted(MODELS))
        raise InvalidInput(
            "bad --candidates", [Problem("--candidates", f"unknown: {given}; known: {known}")]
        )
    return names


def register(app: typer.Typer) -> None:
    """Add the ``eval`` command."""

    @app.command("eval")
    def eval_command(
        data: Path | None = typer.Option(
            None,
            "--data",
            help="Log file (CSV/TSV, plain or gzipped, or Parquet), folder, or quoted glob "
            "('dir/*.csv'): a folder's or glob's files are read into one log.",
        ),
        columns: str | None = typer.Option(
            None,
            "--columns",
            help="Column map, e.g. learner=user_id,skill=skill_id,correct=correct,order=order_id "
            "(every layout also has the column 'source', the file's name). Optional for the "
            "dkt-lines and wide layouts: it completes their default map.",
        ),
        layout: Layout = typer.Option(
            Layout.LONG,
            "--layout",
            help="long: a row per response; dkt-lines: DKT's length / [skills] / 0-1 lines; "
            "wide: a row per learner, a column per item.",
        ),
        model: str | None = typer.Option(
            None,
            "--model",
            help="Model name (see --list-models), or auto: fit the candidates on a validation "
            "split of the training learners and score the best on the test learners.",
        ),
        candidates: str | None = typer.Option(
            None,
            "--candidates",
            help="With --model auto: the models to try, comma-separated, cheapest first "
            f"(default {','.join(CANDIDATES)}).",
        ),
        max_seconds: float | None = typer.Option(
            None,
            "--max-seconds",
            help="With --model auto: start no further candidate after this many seconds.",
        ),
        valid_fraction: float = typer.Option(
            0.2,
            "--valid-fraction",
            help="With --model auto: share of the training learners used for validation.",
        ),
        skill_sep: str | None = typer.Option(
            None, "--skill-sep", help="Separator of several skills in one cell, e.g. '~~'."
        ),
        split: str = typer.Option(
            "learner:0.2", "--split", help="Random split by learner: learner:<test fraction>."
        ),
        split_file: Path | None = typer.Option(
            None, "--split-file", help="File listing the test learners (one id per line or CSV)."
        ),
        test_data: Path | None = typer.Option(
            None, "--test-data", help="A separate test log file (same columns as --data)."
        ),
        merge_expanded: bool = typer.Option(
            False,
            "--merge-expanded",
            help="Score a multi-skill response once: merge the rows that repeat the row before "
            "them (same learner, item, outcome and time) into it, as one row with all the "
            "skills. Row-per-skill data leaks each copy's answer otherwise.",
        ),
        seed: int = typer.Option(0, "--seed", help="Seed of the split and of the model."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
        param: list[str] = typer.Option(
            [], "--param", help="Model hyperparameter key=value (repeatable)."
        ),
        list_models: bool = typer.Option(
            False, "--list-models", help="List the models and whether they are available."
        ),
    ) -> None:
        """Fit a learner model and score next-response predictions on held-out learners."""
        if list_models:
            if as_json:
                typer.echo(json.dumps([vars(m) for m in available_models()]))
            else:
                _print_models()
            return
        problems = [
            Problem(f"--{name}", "is required")
            for name, value in (("data", data), ("columns", columns), ("model", model))
            if value is None and not (name == "columns" and layout is not Layout.LONG)
        ]
        if problems:
            raise InvalidInput("missing options", problems)
        assert data is not None
        assert model is not None
        params = parse_params(param)
        auto = model == "auto"
        if auto and params:
            raise InvalidInput(
                "--param with --model auto",
                [Problem("--param", "sets one model's options: name that model instead of auto")],
            )
        chosen = _candidates(candidates) if auto else []
        learner_model = None if auto else make_model(model, params, seed=seed)
        train, test, protocol = prepare_split(
            data,
            columns,
            layout=layout,
            skill_sep=skill_sep,
            split=split,
            split_file=split_file,
            test_data=test_data,
            seed=seed,
            merge_expanded=merge_expanded,
        )
        if learner_model is None:
            selection = select_model(
                train,
                test,
                candidates=chosen,
                valid_fraction=valid_fraction,
                seed=seed,
                max_seconds=max_seconds,
            )
            if as_json:
                chosen_out = selection.to_dict()
                chosen_out.update(data=data.name, protocol=protocol, seed=seed)
                chosen_out["layout"] = layout.value
                typer.echo(json.dumps(chosen_out))
            else:
                _print_selection(selection, protocol, data)
            return
        report = evaluate(learner_model, train, test)
        if as_json:
            out: dict[str, Any] = report.to_dict()
            out["model"] = model
            out.update(data=data.name, protocol=protocol, seed=seed, params=params)
            out["layout"] = layout.value
            typer.echo(json.dumps(out))
        else:
            _print_report(report, protocol, data)
