"""CLI commands: simulate (compare pathway policies on synthetic learners)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from zoped.engine.mastery import MasteryConfig
from zoped.engine.recommend import RecommenderConfig
from zoped.interop.course_file import load_course_file
from zoped.simulation import SimCourse, SimulationConfig, simulate
from zoped.simulation.runner import ITEMS_PER_COMPETENCY, default_budget

# The tables' columns: report key and header. The item counts carry their interval; the
# shares are shown as means (every interval is in --json).
_ITEM_COLUMNS = (
    ("median_items_to_mastery", "all at once"),
    ("median_items_to_coverage", "each at least once"),
)
_SHARE_COLUMNS = (
    ("retention", "recall"),
    ("delayed_retention", "recall 30 days later"),
    ("over_practice", "on mastered"),
    ("premature_advancement", "premature"),
)


def _demo_course() -> Path:
    return Path(str(resources.files("zoped") / "content" / "demo_course.yaml"))


def _cpu_cores() -> int:
    """The CPUs this process may run on (on Linux, those its affinity mask allows)."""
    if hasattr(os, "sched_getaffinity"):
        return max(len(os.sched_getaffinity(0)), 1)
    return os.cpu_count() or 1


def _fmt(value: object, digits: int = 3) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}g}" if isinstance(value, float) else str(value)


def _share(block: dict[str, Any], key: str) -> str:
    return _fmt(block[key], 2)


def _items_pm(block: dict[str, Any], key: str) -> str:
    """An item count as ``mean±half-width`` of its 95 % interval, in whole items."""
    mean = block[key]
    low, high = block["ci95"][key]
    if mean is None:
        return "-"
    if low is None or high is None:
        return f"{mean:.0f}"
    return f"{mean:.0f}±{(high - low) / 2:.0f}"


def simulate_command(
    framework: Path | None = typer.Option(
        None, "--framework", help="Course file to simulate (default: the demo course)."
    ),
    learners: int = typer.Option(100, "--learners", help="Learners per population."),
    budget: int | None = typer.Option(
        None,
        "--budget",
        help="Items per learner, diagnostic included (default: "
        f"{ITEMS_PER_COMPETENCY} per competency of the course).",
    ),
    seed: int = typer.Option(0, "--seed", help="First seed; --seeds consecutive seeds are run."),
    seeds: int = typer.Option(5, "--seeds", help="How many seeds (at least 5 for the CIs)."),
    families: str = typer.Option(
        "strength,stage", "--families", help="Hidden learner families, comma separated."
    ),
    cohort: str = typer.Option(
        "mixed",
        "--cohort",
        help="Who the learners are: mixed (several grades, varied prior knowledge) or new "
        "(nobody was taught the course).",
    ),
    band: str = typer.Option(
        "relative",
        "--band",
        help="Desirable-difficulty band: relative (engine default), absolute or off.",
    ),
    tune: bool = typer.Option(
        True,
        "--tune/--no-tune",
        help="Tune zoped's move-on parameters on the calibration population (simulation only).",
    ),
    recheck: bool = typer.Option(
        True,
        "--recheck/--no-recheck",
        help="Prerequisite re-check after repeated misses (engine default: on).",
    ),
    refit_days: int = typer.Option(
        10,
        "--refit-days",
        help="zoped refits its knowledge model on its learners' answers every N school days "
        "(0: only the calibration fit).",
    ),
    jobs: int | None = typer.Option(
        None,
        "--jobs",
        help="Worker processes for the family x seed runs (default: one per CPU core; 1: all "
        "in this process). The report is the same for any number.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Compare zoped's recommender with a tuned linear curriculum, random and an oracle."""
    course = load_course_file(framework or _demo_course())
    sim_course = SimCourse.build(course.framework.competencies, course.items)
    config = SimulationConfig(
        n_learners=learners,
        budget=budget if budget is not None else default_budget(sim_course),
        seeds=tuple(range(seed, seed + seeds)),
        families=tuple(f.strip() for f in families.split(",") if f.strip()),
        cohort=cohort,
        recommender=(
            RecommenderConfig(w_difficulty=0.0)
            if band == "off"
            else RecommenderConfig(band_scale=band)
        ),
        tune_zoped=tune,
        refit_days=refit_days,
        mastery=MasteryConfig() if recheck else MasteryConfig(recheck_misses=0),
        jobs=jobs if jobs is not None else _cpu_cores(),
    )
    report = simulate(sim_course, config)
    report["settings"]["course"] = course.id
    if as_json:
        typer.echo(json.dumps(report, sort_keys=True))
        return
    console = Console()
    console.print(
        f"zoped simulate: {course.id}, cohort {config.cohort}, budget {config.budget}, "
        f"{config.n_learners} learners x {len(config.seeds)} seeds (means over seeds)",
        highlight=False,
    )
    # Two narrow tables rather than one wide one: each fits an 80-column terminal.
    console.print(
        _table(
            report,
            config.families,
            "median items to master every competency (±95% CI)",
            [(h, partial(_items_pm, key=k)) for k, h in _ITEM_COLUMNS]
            + [("mastery rate", partial(_share, key="mastery_rate"))],
        )
    )
    console.print(
        _table(
            report,
            config.families,
            "recall (true P of solving a typical item) and where practice went (shares)",
            [(h, partial(_share, key=k)) for k, h in _SHARE_COLUMNS],
        )
    )
    savings = report["savings_vs_linear"]
    place = report["placement"]
    console.print(
        "zoped's saving vs the tuned linear curriculum in median items "
        "(- where linear's median lies beyond the budget):\n"
        f"  all at once: {_saving_line(savings)}\n"
        f"  each at least once: {_saving_line(savings.get('coverage', {}))}\n"
        f"placement: median questions {_fmt(place['median_questions'])}, "
        f"accuracy {_fmt(place['accuracy'])}",
        highlight=False,
    )


def _table(
    report: dict[str, Any],
    families: tuple[str, ...],
    title: str,
    columns: Sequence[tuple[str, Callable[[dict[str, Any]], str]]],
) -> Table:
    """One row per family and policy, one column per (header, cell of a policy's block)."""
    table = Table(title=title, box=box.SIMPLE_HEAD)
    table.add_column("family")
    table.add_column("policy")
    for header, _ in columns:
        table.add_column(header, justify="right")
    for family in families:
        for policy, pooled in report["policies"].items():
            block = pooled["by_family"][family]
            table.add_row(family, policy, *(cell(block) for _, cell in columns))
    return table


def _saving_line(savings: dict[str, Any]) -> str:
    """Pooled saving, each family's with its interval, and the lower bound."""
    by_family = ", ".join(
        f"{family} {_fmt(s['mean'])} [{_fmt(s['ci95'][0])}, {_fmt(s['ci95'][1])}]"
        for family, s in savings.get("by_family", {}).items()
    )
    bound = savings.get("lower_bound", {})
    return (
        f"pooled {_fmt(savings.get('mean'))} ({by_family}; lower bound {_fmt(bound.get('mean'))})"
    )


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("simulate")(simulate_command)
