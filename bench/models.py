"""Benchmark every available learner model on the shared datasets, beside pyBKT.

Reads ``bench/datasets.toml`` (column maps, split protocols, published figures), evaluates each
model of :mod:`zoped.engine.registry` that imports here on each dataset's split, fits pyBKT
(the reference BKT) on the same split in the same run, and writes
``bench/results/models.json`` (merged with earlier runs, keyed by dataset and model) and
``bench/results/models.md`` (regenerated from the JSON).

Usage (from the repository root)::

    .venv/bin/python bench/models.py --datasets assist2009_raw_subset,statics2011_gervet \\
        --models skillrate,bkt,elo --max-rows 200000
    .venv/bin/python bench/models.py --datasets assist2009_akt --models akt --no-pybkt \\
        --param akt:hidden=64 --param akt:epochs=3        # hyperparameters, kept with the run
    .venv/bin/python bench/models.py --datasets glops_42sets --auto --models bkt,elo,irt,lr
                                           # zoped eval --model auto's choice, on validation

Not part of the test suite. Timings depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import sys
import tempfile
import textwrap
import time
import tomllib
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zoped.engine.base import InteractionLog
from zoped.engine.evaluate import evaluate
from zoped.engine.expanded import merge_expanded_rows
from zoped.engine.logs import column_map, load_log, load_logs
from zoped.engine.metrics import all_metrics
from zoped.engine.registry import available_models, make_model, parse_params
from zoped.engine.select import select_model
from zoped.engine.split import read_split_file, split_by_ids, split_by_learner
from zoped.errors import ZopedError

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
DEEP_MODELS = frozenset({"dkt", "sakt", "akt"})


def _default_data_dir() -> Path:
    """The data_dir setting (ZOPED_DATA_DIR); a relative one is taken from the repository."""
    from zoped.settings import Settings

    data_dir = Settings().data_dir
    return data_dir if data_dir.is_absolute() else (REPO / data_dir).resolve()


def load_datasets(path: Path) -> dict[str, dict[str, Any]]:
    """The dataset table of ``datasets.toml``."""
    with path.open("rb") as handle:
        return tomllib.load(handle)


def _split_file_from_column(path: Path, learner: str, column: str, values: list[str]) -> Path:
    """Write the learners whose rows have ``column`` in ``values`` to a temporary split file."""
    frame = pd.read_csv(path, usecols=[learner, column], dtype=str, sep=None, engine="python")
    ids = frame.loc[frame[column].isin(values), learner].drop_duplicates()
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as handle:
        handle.write("\n".join(ids) + "\n")
    return Path(handle.name)


def split_dataset(data_dir: Path, spec: dict[str, Any]) -> tuple[InteractionLog, InteractionLog]:
    """Load a dataset and split it by its protocol (``merge_expanded``: question level)."""
    train, test = _split(data_dir, spec)
    if spec.get("merge_expanded"):
        return merge_expanded_rows(train), merge_expanded_rows(test)
    return train, test


def _split(data_dir: Path, spec: dict[str, Any]) -> tuple[InteractionLog, InteractionLog]:
    layout = spec.get("layout", "long")
    colmap = column_map(spec.get("columns"), layout)
    sep = spec.get("skill_sep")
    path = data_dir / spec["path"]
    if spec["protocol"] == "test_file":
        train, test = load_logs([path, data_dir / spec["test_path"]], colmap, sep, layout=layout)
        return train, test
    log = load_log(path, colmap, sep, layout=layout)
    if spec["protocol"] == "first_learners":
        # The first `train_learners` learners of the file train, the rest test (DKT's
        # synthetic-data protocol); learner codes follow first appearance in the file.
        return split_by_ids(log, [str(x) for x in log.learner_ids[int(spec["train_learners"]) :]])
    if spec["protocol"] == "split_column":
        split_path = _split_file_from_column(
            path, colmap.learner, spec["column"], spec["test_values"]
        )
        try:
            return split_by_ids(log, read_split_file(split_path))
        finally:
            split_path.unlink()
    if spec["protocol"] == "learner":
        return split_by_learner(log, float(spec["fraction"]), np.random.default_rng(0))
    raise SystemExit(f"unknown protocol {spec['protocol']!r}")


def cap_rows(log: InteractionLog, max_rows: int | None) -> InteractionLog:
    """The first learners of ``log`` whose rows add up to at most ``max_rows`` (whole learners)."""
    if max_rows is None or len(log) <= max_rows:
        return log
    bounds = log.learner_bounds()
    ends = bounds[1:]
    keep = np.flatnonzero(ends <= max_rows)
    last = int(keep[-1]) + 1 if keep.size else 1
    return log.take_rows(np.arange(int(bounds[last])))


def pybkt_status() -> dict[str, Any]:
    """Whether pyBKT imports and whether its compiled (C++) E-step is the one loaded."""
    try:
        import pyBKT
        from pyBKT.fit import E_step
    except ImportError as error:
        return {"available": False, "reason": str(error)}
    compiled = str(getattr(E_step, "__file__", "")).endswith((".so", ".pyd"))
    version = getattr(pyBKT, "__version__", None)
    if version is None:
        from importlib.metadata import version as dist_version

        version = dist_version("pyBKT")
    return {"available": True, "version": version, "compiled_e_step": compiled,
            "e_step": Path(str(E_step.__file__)).name}  # fmt: skip


def _pybkt_frame(log: InteractionLog) -> tuple[pd.DataFrame, np.ndarray]:
    """pyBKT's long format: one row per (response, skill); multi-skill responses are expanded
    and their predictions averaged back (each skill's chain is independent, so no label leaks)."""
    counts = log.n_skills_per_row
    rows = np.repeat(np.arange(len(log)), counts)
    frame = pd.DataFrame(
        {
            "order_id": np.arange(rows.size),
            "user_id": log.learner[rows].astype(str),
            # Codes, not names: pyBKT matches skill names as regular expressions, so names
            # with parentheses (DataShop KCs) break it.
            "skill_name": np.char.add("s", log.skill_idx.astype(str)),
            "correct": log.correct[rows].astype(int),
        }
    )
    return frame, rows


def run_pybkt(
    train: InteractionLog,
    test: InteractionLog,
    num_fits: int,
    clock: Callable[[], float],
    trace_memory: bool = True,
) -> dict[str, Any]:
    """Fit pyBKT (standard BKT, ``num_fits`` restarts per skill) on train; predict, score."""
    from pyBKT.models import Model

    defaults = {"order_id": "order_id", "user_id": "user_id", "skill_name": "skill_name",
                "correct": "correct"}  # fmt: skip
    train_frame, _ = _pybkt_frame(train)
    test_frame, rows = _pybkt_frame(test)
    if trace_memory:
        tracemalloc.start()
    try:
        t0 = clock()
        model = Model(seed=0, num_fits=num_fits, parallel=False)
        model.fit(data=train_frame, defaults=defaults)
        t1 = clock()
        predicted = model.predict(data=test_frame)
        t2 = clock()
        peak = tracemalloc.get_traced_memory()[1] / 2**20 if trace_memory else float("nan")
    finally:
        if trace_memory:
            tracemalloc.stop()
    by_row = predicted.sort_values("order_id")["correct_predictions"].to_numpy(dtype=np.float64)
    # pyBKT returns NaN for skills whose fit degenerated; score them as its own fallback (0.5)
    # and say how many there were.
    n_nan = int(np.isnan(by_row).sum())
    # It can also overshoot 1 by a rounding error (1.0000000000000002): clip.
    by_row = np.clip(np.where(np.isnan(by_row), 0.5, by_row), 0.0, 1.0)
    p = np.bincount(rows, weights=by_row, minlength=len(test)) / np.maximum(
        test.n_skills_per_row, 1
    )
    out = all_metrics(test.correct, p)
    out.update(fit_s=t1 - t0, predict_s=t2 - t1, peak_mb=peak, n_train=len(train),
               n_test=len(test), num_fits=num_fits, nan_predictions=n_nan)  # fmt: skip
    return out


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def best_run(runs: dict[str, Any]) -> tuple[str, float] | None:
    """The zoped model with the highest test AUC (pyBKT, the reference, is not ours)."""
    scored = [(m, r["auc"]) for m, r in runs.items() if m != "pybkt" and r.get("auc") is not None]
    return max(scored, key=lambda x: x[1]) if scored else None


def summary_table(results: dict[str, Any], datasets: dict[str, dict[str, Any]]) -> list[str]:
    """One row per dataset: the best zoped model, the validation choice, the best published."""
    lines = [
        "## Best model per dataset",
        "",
        "Best zoped = the highest test AUC among the models run with their default options",
        "(no hyperparameter was tuned on test learners, but picking the best of ~11 models on the",
        "test set is mildly optimistic). Chosen on validation = `zoped eval --model auto`'s pick,",
        "made on a validation split of the training learners only (20% of them, by learner), then",
        "refitted on all training learners and scored on the test learners. Gap = best zoped minus",
        "the best published AUC with a comparable protocol (see each dataset's section and",
        "BASELINES.md); a dash where nothing comparable is published.",
        "",
        "| dataset | best zoped (test AUC) | chosen on validation (test AUC) | best published, "
        "comparable protocol | gap |",
        "|---|---|---|---|---|",
    ]
    for name, spec in datasets.items():
        runs = results.get("runs", {}).get(name)
        if not runs:
            continue
        best = best_run(runs)
        shown = "—" if best is None else f"{best[0]} {best[1]:.4f}"
        auto = results.get("auto", {}).get(name)
        chosen = "not run" if not auto else f"{auto['model']} {auto['auc']:.4f}"
        if auto and not DEEP_MODELS & {c["model"] for c in auto["candidates"]}:
            chosen += " (no deep candidate)"
        published = spec.get("best_published")
        if published and best:
            pub = f"{published['model']} {published['auc']} ({published['source']})"
            gap = f"{best[1] - float(published['auc']):+.4f}"
        else:
            pub, gap = "—", "—"
        lines.append(f"| {name} | {shown} | {chosen} | {pub} | {gap} |")
    return [*lines, ""]


def render_markdown(results: dict[str, Any], datasets: dict[str, dict[str, Any]]) -> str:
    """The results file: one table per dataset, then notes and the command to reproduce."""
    meta = results.get("meta", {})
    lines = [
        "# Learner models on the shared datasets",
        "",
        "Generated by `bench/models.py` from `bench/results/models.json`; do not edit by hand.",
        "AUC, RMSE on the test learners' responses (every response, predicted from the learner's",
        "earlier test responses only); fit seconds (wall clock, shared 2-core machine, so only",
        "rough); peak MB = tracemalloc peak during fit + predict (numpy traced; memory that",
        "numba/C++/torch allocate natively is not). `pybkt` = pyBKT on the same split in the",
        "same run.",
        "",
        f"pyBKT: {json.dumps(meta.get('pybkt', {}))}",
        "",
        f"Timing: {meta.get('timing', 'one fit per model, no warm-up')}.",
        "",
        *summary_table(results, datasets),
    ]
    for name, spec in datasets.items():
        runs = results.get("runs", {}).get(name)
        if not runs:
            continue
        # The header describes the full split: the run on the most training rows.
        any_run = max(runs.values(), key=lambda r: r.get("n_train") or 0)
        lines += [
            f"## {name}",
            "",
            f"`{spec['path']}` — protocol `{spec['protocol']}`; {spec.get('note', '')}. "
            f"Train {any_run.get('n_train', '?')} / test {any_run.get('n_test', '?')} rows"
            + (
                f" (capped with --max-rows {any_run['max_rows']})"
                if any_run.get("max_rows")
                else ""
            )
            + ".",
            "",
            "| model | AUC | RMSE | logloss | ECE | fit s | peak MB | published AUC |",
            "|---|---|---|---|---|---|---|---|",
        ]
        published = spec.get("published", {})
        for model, run in sorted(runs.items()):
            pub = published.get(model, published.get("bkt", "") if model == "pybkt" else "")
            if "error" in run:
                lines.append(f"| {model} | error: {run['error'][:80]} | | | | | | {pub} |")
                continue

            def fmt(key: str, digits: int = 4, run: dict[str, Any] = run) -> str:
                value = run.get(key)
                return "—" if value is None else f"{value:.{digits}f}"

            label = model
            if run.get("params"):
                label += " (" + ", ".join(f"{k}={v}" for k, v in run["params"].items()) + ")"
            if run.get("max_rows") and run.get("max_rows") != any_run.get("max_rows"):
                label += f" (first learners: {run['n_train']} train / {run['n_test']} test rows)"
            restarts = run.get("n_restarts", run.get("num_fits"))
            if restarts is not None:
                label += f" ({restarts} restarts)"
            if run.get("nan_predictions"):
                label += f" ({run['nan_predictions']} NaN predictions scored as 0.5)"
            lines.append(
                f"| {label} | {fmt('auc')} | {fmt('rmse')} | {fmt('logloss')} | {fmt('ece')} | "
                f"{fmt('fit_s', 2)} | {fmt('peak_mb', 1)} | {pub} |"
            )
        missing = [m for m in meta.get("models_available", []) if m not in runs]
        if spec.get("models"):
            no_pybkt = "" if spec.get("pybkt", True) else ", no pyBKT"
            limited = ", ".join(spec["models"])
            lines += ["", f"Models limited by design to {limited}{no_pybkt} (see the note)."]
        elif missing:
            lines += [
                "",
                f"Not run on this dataset (time on the shared CPU): {', '.join(missing)}.",
            ]
        auto = results.get("auto", {}).get(name)
        if auto:
            tried = ", ".join(
                f"{c['model']} {c['valid_auc']:.4f}" if c["valid_auc"] is not None
                else f"{c['model']} ({c['note']})"
                for c in auto["candidates"]
            )  # fmt: skip
            lines += ["", f"`--model auto` (validation AUC on {auto['n_valid']} rows of held-out "
                      f"training learners): {tried}; chose **{auto['model']}**, test AUC "
                      f"{auto['auc']:.4f}."]  # fmt: skip
        # Notes on a dataset's runs (settings chosen on validation, profiles), kept in the JSON
        # so a regenerated file keeps them: results["notes"][dataset] = [paragraph, ...].
        for note in results.get("notes", {}).get(name, []):
            lines += ["", *textwrap.wrap(note, 100)]
        others = {k: v for k, v in published.items() if k not in runs and k != "bkt"}
        if others:
            lines += ["", "Published, no model of ours by that name: "
                      + "; ".join(f"{k} {v}" for k, v in others.items())]  # fmt: skip
        lines.append("")
    lines += [
        "## Reproduce",
        "",
        "```",
        *[f"{c}" for c in meta.get("commands", [])],
        "```",
        "",
        "AKT with its published protocol (AKT's five folds of ASSISTments 2009 and 2015 and",
        "Statics, d_model 256, early stopping on a validation fold, test AUC as the mean of the",
        "five folds) is too slow for this shared CPU; on a machine with a GPU it runs with one",
        "command, `python bench/deep_gpu.py --protocol akt` (one JSON line per epoch and fold,",
        "then the mean and standard deviation beside the published figure).",
        "",
        "Sources of published figures: see `BASELINES.md` in the data folder ([G] Gervet et al.",
        "2020, [P] pyKT, [S] Sarsa et al. 2022, [B] pyBKT examples, [D] DKT/AKT papers as quoted).",
        "",
    ]
    notes = meta.get("not_run", [])
    if notes:
        lines += ["## Not run", "", *[f"- {n}" for n in notes], ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description="Benchmark learner models beside pyBKT.")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=_default_data_dir(),
        help="datasets folder (default: ZOPED_DATA_DIR, else ../shared/data beside the repo)",
    )
    parser.add_argument("--config", type=Path, default=BENCH / "datasets.toml")
    parser.add_argument("--datasets", default="", help="comma-separated names (default: all)")
    parser.add_argument("--models", default="", help="comma-separated (default: all available)")
    parser.add_argument(
        "--max-rows",
        type=int,
        default=None,
        help="cap train and test at this many rows (whole learners, first ones)",
    )
    parser.add_argument(
        "--pybkt-fits",
        type=int,
        default=None,
        help="pyBKT num_fits (default: zoped BKT's n_restarts, so both fit as many restarts)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="fits per model: the first gives the scores and peak MB (traced); fit_s is the "
        "best of the others (untraced, models interleaved), or the first's if there are none",
    )
    parser.add_argument("--no-pybkt", action="store_true")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        help="model:key=value, a hyperparameter of one model (repeatable); kept with its run",
    )
    parser.add_argument(
        "--auto",
        action="store_true",
        help="run zoped eval --model auto's selection (candidates: --models) instead of each "
        "model; its choice and test AUC go to the summary",
    )
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "models")
    args = parser.parse_args(argv)

    params: dict[str, dict[str, str]] = {}
    for spec_text in args.param:
        model_name, _, pair = spec_text.partition(":")
        params.setdefault(model_name, {}).update(parse_params([pair]))
    datasets = load_datasets(args.config)
    chosen = [d for d in args.datasets.split(",") if d] or list(datasets)
    unknown = [d for d in chosen if d not in datasets]
    if unknown:
        raise SystemExit(f"unknown datasets {unknown}; known: {list(datasets)}")
    models = {m.name: m for m in available_models()}
    wanted = [m for m in args.models.split(",") if m] or [
        n for n, m in models.items() if m.available
    ]
    json_path = args.out.with_suffix(".json")
    results: dict[str, Any] = (
        json.loads(json_path.read_text()) if json_path.is_file() else {"runs": {}, "meta": {}}
    )
    meta = results.setdefault("meta", {})
    status = pybkt_status()
    meta["pybkt"] = status
    meta["models_available"] = sorted(n for n, m in models.items() if m.available)
    meta["machine"] = f"{platform.machine()} {platform.python_version()}"
    # The data folder is a machine's own (ZOPED_DATA_DIR, default ../shared/data): left out.
    given = " ".join(argv if argv is not None else sys.argv[1:])
    command = "python bench/models.py " + re.sub(r"\s*--data-dir(=|\s+)\S+", "", given).strip()
    meta.setdefault("commands", [])
    if command not in meta["commands"]:
        meta["commands"].append(command)
    not_run = set(meta.get("not_run", []))
    for model, info in models.items():
        if not info.available:
            not_run.add(f"{model}: not available here ({info.reason[:120]})")
        else:
            not_run = {n for n in not_run if not n.startswith(f"{model}: not available")}
    meta["not_run"] = sorted(not_run)
    bkt_restarts = int(make_model("bkt", seed=0).n_restarts)  # type: ignore[attr-defined]
    pybkt_fits = bkt_restarts if args.pybkt_fits is None else args.pybkt_fits
    meta["timing"] = (
        f"models warmed up (untimed fit on 2,000 rows) before timing; zoped BKT n_restarts="
        f"{bkt_restarts}, pyBKT num_fits={pybkt_fits} (parallel=False, seed 0); fit_s = best of "
        "the untraced fits when --repeats > 1 (models interleaved), else the one traced fit"
    )

    for name in chosen:
        spec = datasets[name]
        started = time.perf_counter()
        try:
            train, test = split_dataset(args.data_dir, spec)
        except (ZopedError, OSError) as error:
            print(f"{name}: cannot load: {error}", file=sys.stderr)
            continue
        train, test = (
            cap_rows(train, args.max_rows),
            cap_rows(test, args.max_rows and args.max_rows // 4),
        )
        print(f"{name}: train {len(train)} test {len(test)} rows "
              f"(loaded in {time.perf_counter() - started:.1f} s)")  # fmt: skip
        runs = results["runs"].setdefault(name, {})
        if args.auto:
            candidates = [m for m in wanted if m in spec.get("models", wanted)]
            _run_auto(results, name, train, test, candidates, params)
            _write(results, datasets, json_path, args.out)
            continue
        # A dataset may restrict the models (e.g. IRT-only material) and turn pyBKT off.
        only = spec.get("models")
        wanted_here = [m for m in wanted if only is None or m in only]
        use_pybkt = not args.no_pybkt and spec.get("pybkt", True) and status.get("available")
        _warm_up(wanted_here, models, train)
        timed: dict[str, list[float]] = {}
        for rep in range(max(args.repeats, 1)):
            for model in wanted_here:
                if model not in models or not models[model].available:
                    if rep == 0:
                        print(f"  {model}: not available", file=sys.stderr)
                    continue
                if rep > 0 and model in DEEP_MODELS:
                    continue
                try:
                    built = make_model(model, params.get(model), seed=0)
                    run = evaluate(built, train, test, trace_memory=rep == 0).to_dict()
                    if params.get(model):
                        run["params"] = params[model]
                except Exception as error:  # one model failing must not stop the benchmark
                    run = {"error": f"{type(error).__name__}: {error}"}
                if rep == 0:
                    run["max_rows"] = args.max_rows
                    if model == "bkt":
                        run["n_restarts"] = make_model("bkt", seed=0).n_restarts  # type: ignore[attr-defined]
                    runs[model] = {k: _clean(v) for k, v in run.items()}
                elif "fit_s" in run:
                    timed.setdefault(model, []).append(run["fit_s"])
                    _best_fit(runs[model], timed[model])
                print(f"  {model} [{rep}]: {json.dumps(runs[model])}")
                _write(results, datasets, json_path, args.out)
            if use_pybkt:
                try:
                    run = run_pybkt(train, test, pybkt_fits, time.perf_counter, rep == 0)
                except Exception as error:  # pyBKT's own failures are recorded, not fatal
                    run = {"error": f"{type(error).__name__}: {error}"}
                if rep == 0:
                    run["max_rows"] = args.max_rows
                    runs["pybkt"] = {k: _clean(v) for k, v in run.items()}
                elif "fit_s" in run:
                    timed.setdefault("pybkt", []).append(run["fit_s"])
                    _best_fit(runs["pybkt"], timed["pybkt"])
                print(f"  pybkt [{rep}]: {json.dumps(runs['pybkt'])}")
                _write(results, datasets, json_path, args.out)


def _run_auto(
    results: dict[str, Any],
    name: str,
    train: InteractionLog,
    test: InteractionLog,
    candidates: list[str],
    params: dict[str, dict[str, str]],
) -> None:
    """zoped eval --model auto on one dataset; the selection goes to results["auto"][name]."""
    selection = select_model(
        train,
        test,
        candidates=candidates,
        seed=0,
        make=lambda model: make_model(model, params.get(model), seed=0),
    )
    out = {k: _clean(v) for k, v in selection.to_dict().items()}
    results.setdefault("auto", {})[name] = out
    print(f"  auto: {json.dumps(out)}")


def _best_fit(run: dict[str, Any], untraced: list[float]) -> None:
    """fit_s becomes the best untraced fit; the traced first fit stays as fit_s_traced."""
    run.setdefault("fit_s_traced", run.get("fit_s"))
    run["fit_s_runs"] = list(untraced)
    run["fit_s"] = min(untraced)


def _warm_up(wanted: list[str], models: dict[str, Any], train: InteractionLog) -> None:
    """An untimed fit of each model on the first learners' 2,000 rows, so that numba's compile
    (or loading its cache), lazy imports and first-call costs are not counted in ``fit_s``."""
    small = cap_rows(train, 2000)
    for model in wanted:
        if model in DEEP_MODELS or model not in models or not models[model].available:
            continue
        try:
            make_model(model, seed=0).fit(small)
        except Exception as error:  # the timed run reports the failure
            print(f"  {model}: warm-up failed: {error}", file=sys.stderr)


def _write(
    results: dict[str, Any], datasets: dict[str, dict[str, Any]], json_path: Path, out: Path
) -> None:
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    out.with_suffix(".md").write_text(render_markdown(results, datasets), encoding="utf-8")


if __name__ == "__main__":
    main()
