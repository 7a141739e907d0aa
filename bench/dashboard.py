"""Benchmark the teacher's class dashboard: every learner's state replayed for one class page.

Standalone script, not a test. Reproduce with::

    .venv/bin/python bench/dashboard.py [--reps 5] [--class-id class-5a] [--write]

It seeds the demo school (seed 7, 20 learners per class) into a temporary SQLite file, then
times, best of ``--reps`` after one warm-up call each:

- ``learner_state`` called once per learner of the class (the old dashboard path);
- ``learner_states`` for the whole class (one query for the events, one replay);
- ``class_dashboard`` (heatmap, alerts, groups, peer tutors) as the teacher's page calls it.

It also checks that ``learner_states`` gives the same states as the per-learner calls. With
``--write`` it rewrites ``bench/results/dashboard.md`` with the figures of this run (the
"before" figures there were measured on the code before ``learner_states``; they are kept).
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from zoped.services import demo
from zoped.services.classes import class_dashboard
from zoped.services.pathways import learner_state, learner_states
from zoped.services.system import open_database
from zoped.store.repositories import PeopleRepository

NOW = datetime(2025, 3, 14, 12, tzinfo=UTC)
RESULTS = Path(__file__).parent / "results" / "dashboard.md"
COMMAND = ".venv/bin/python bench/dashboard.py --reps 5 --write"

# Measured on the code before learner_states (commit 4541cad: ``git archive`` of it run with
# this script's calls), same seed, class and machine (2 shared CPU cores), best of 3.
BEFORE = {
    "class_dashboard": 1.00,
    "learner_state x 20": 0.93,
}


def best_of(reps: int, run: Callable[[], Any]) -> float:
    """The best wall time of ``reps`` calls, after one warm-up call."""
    run()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--class-id", default="class-5a")
    parser.add_argument("--write", action="store_true", help="rewrite bench/results/dashboard.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(f"sqlite:///{tmp}/demo.db")
        with db.session() as session:
            start = time.perf_counter()
            demo.seed_demo_school(session, seed=7, now=NOW)
            seed_s = time.perf_counter() - start
            people = PeopleRepository(session)
            teacher = people.get_user("rivera")
            ids = people.learners_in_class(args.class_id)

            def one_by_one() -> dict[str, Any]:
                return {
                    lid: learner_state(session, actor=teacher, learner_id=lid, now=NOW)
                    for lid in ids
                }

            def together() -> dict[str, Any]:
                return learner_states(session, actor=teacher, learner_ids=ids, now=NOW)

            def page() -> Any:
                return class_dashboard(session, actor=teacher, class_id=args.class_id, now=NOW)

            assert one_by_one() == together(), "learner_states differs from learner_state"
            figures = {
                f"learner_state x {len(ids)}": best_of(args.reps, one_by_one),
                f"learner_states ({len(ids)} learners)": best_of(args.reps, together),
                "class_dashboard": best_of(args.reps, page),
            }
        db.dispose()
    lines = [
        f"seeded the demo school in {seed_s:.1f} s; class {args.class_id}, {len(ids)} learners"
    ]
    lines += [f"{name}: {seconds:.3f} s" for name, seconds in figures.items()]
    print("\n".join(lines))
    if args.write:
        write(figures, len(ids), args)


def write(figures: dict[str, float], n: int, args: argparse.Namespace) -> None:
    rows = [
        "| path | before (s) | after (s) |",
        "| --- | --- | --- |",
        f"| class_dashboard ({args.class_id}, {n} learners) | {BEFORE['class_dashboard']:.2f} "
        f"| {figures['class_dashboard']:.2f} |",
        f"| states of the class: learner_state x {n} (before), learner_states (after) "
        f"| {BEFORE['learner_state x 20']:.2f} | {figures[f'learner_states ({n} learners)']:.2f} |",
        f"| learner_state x {n} on the new code (one-learner case of the same replay) | "
        f"{BEFORE['learner_state x 20']:.2f} | {figures[f'learner_state x {n}']:.2f} |",
    ]
    text = f"""# Class dashboard: all learners' states for one class page

Reproduce: `{COMMAND}`

Demo school (seed 7, reference time {NOW:%Y-%m-%d %H:%M} UTC) in a temporary SQLite file; the
teacher `rivera` opens `{args.class_id}`. Best of {args.reps} runs after a warm-up, Python
{platform.python_version()}, 2 CPU cores shared with other work (times are noisy).

{chr(10).join(rows)}

The machine's load moves these a lot: earlier in the same session, with other work running, the
old dashboard took 2.7 s (cProfile: 3.6 s, 0.16 s per learner) and the new one 0.8-1.4 s.
`learner_states` returns the same states as the per-learner calls (the script asserts it).

Before: the dashboard called `learner_state` once per learner: per learner it loaded the course
(about 35 ms), the models and the events (twice: once more for the alerts), and replayed the
events with one `MasteryTracker` record and refresh per answer (cProfile: about 45 % replay,
35 % loading the course and events, the rest mapping rows).

After: `learner_states` checks and audits each learner as before, loads the course and the
models once and every learner's events and placements in one query each, and replays the
learners in lockstep: one `record` and one `refresh` on a learners x competencies tracker per
step instead of per answer. The dashboard's alerts read the events the replay loaded. What is
left is mostly turning event rows into validated `EvidenceEvent`s and the per-learner
BKT and memory updates.
"""
    RESULTS.write_text(text)


if __name__ == "__main__":
    main()
