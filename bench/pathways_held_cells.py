"""Which competencies that zoped holds as mastered are truly below the line, and can answers tell?

A diagnostic for issue 4's practice target (see ``bench/results/pathways.md``). It runs
zoped's policy (fixed ``mastered_p`` and review point, as the value-of-information script)
on the benchmark's evaluation learners and, at the start of every school day, looks at every
cell (learner, competency) zoped holds as mastered: is it truly below the mastery line, and
what could zoped have seen of it? It prints, for cells placed as mastered by the diagnostic and
for cells mastered in practice:

- the share truly below the line by days since the competency was last practised;
- P(correct) on a typical item (the hidden truth, with the learner's guess and slip) of the
  faded and the held-and-true cells: how far apart their answers are;
- how well observable signals rank the faded cells (AUC): the memory model's recall, days
  since practice, and the learner's accuracy on the competency so far.

Reads the hidden learners, so it lives in bench/, never in ``zoped simulate``.

Usage:
    python bench/pathways_held_cells.py [--framework FILE] [--family strength] [--seeds 1]
        [--learners 60] [--days 80]
"""

from __future__ import annotations

import argparse

import numpy as np
from pathways_setup import Setup, add_arguments

from zoped.engine.mastery import MasteryLevel
from zoped.engine.metrics import auc
from zoped.simulation import protocol, runner
from zoped.simulation.course import DAY_S

DAY_BINS = ((0.0, 1.5), (1.5, 2.5), (2.5, 4.5), (4.5, 8.5), (8.5, 15.0), (15.0, np.inf))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser, learners=60, seeds=1)
    parser.add_argument("--days", type=int, default=80, help="school days of practice to watch")
    args = parser.parse_args()
    setup = Setup.from_args(args)
    course, sim, config, mastery = setup.course, setup.sim, setup.config, setup.mastery
    # One row per held cell per school day: days since practice, model recall, accuracy so far,
    # placed (1) or learnt (0), truly below the line, true P(correct) on a typical item.
    rows: list[np.ndarray] = []
    for seed in config.seeds:
        fitted = runner.fit_models(sim, setup.population(seed, protocol.CALIBRATION), config, seed)
        population = setup.population(seed, protocol.EVALUATION)
        policy = protocol.zoped_policy(
            sim, args.learners, fitted, config, mastery, MasteryLevel.PROFICIENT
        )
        rng = setup.policy_rng(seed)
        policy.start(population, rng, 0.0)
        placed = policy.tracker.mastered.copy()
        offset = sim.time_of(sim.items_per_day)
        everyone = np.ones(args.learners, dtype=np.bool_)
        for step in range(args.days * sim.items_per_day):
            now = offset + sim.time_of(step)
            if step % sim.items_per_day == 0:
                held = policy.tracker.mastered
                true_p = population.true_p(now)
                p_correct = (
                    population.guess[:, None]
                    + (1.0 - population.guess - population.slip)[:, None] * true_p
                )
                tracker = policy.tracker
                accuracy = tracker.n_correct / np.maximum(tracker.attempts, 1)
                features = np.stack(
                    [
                        (now - policy.last_review) / DAY_S,
                        policy.retrievability(now),
                        accuracy,
                        placed,
                        ~population.truly_mastered(now),
                        p_correct,
                    ],
                    axis=-1,
                )
                rows.append(features[held])
            choice = policy.choose(now, rng)
            items = sim.pick_items(choice, rng)
            correct = population.respond(items, now, rng)
            policy.observe(items, correct, everyone, now)
    data = np.concatenate(rows).astype(np.float64)
    days, recall, accuracy, placed_col, faded_col, p_correct = data.T
    faded = faded_col > 0.5
    print(
        f"\n{course.id}, family `{args.family}`, cohort `{args.cohort}`, {args.learners} learners"
        f" x {args.seeds} seeds, {args.days} school days, mastered_p {args.mastered_p}, review"
        f" {args.review}: {data.shape[0]} held cells (one per cell per school day)\n"
    )
    print(
        "| held cells | n | truly below the line | "
        + " | ".join(
            f"{lo:g}-{hi:g} days" if np.isfinite(hi) else f">= {lo:g} days" for lo, hi in DAY_BINS
        )
        + " |"
    )
    print("|---" * (3 + len(DAY_BINS)) + "|")
    groups = {"placed as mastered": placed_col > 0.5, "mastered in practice": placed_col < 0.5}
    for name, group in groups.items():
        shares = []
        for lo, hi in DAY_BINS:
            cell = group & (days >= lo) & (days < hi)
            shares.append(f"{faded[cell].mean():.3f} ({cell.sum()})" if cell.any() else "-")
        print(
            f"| {name} | {group.sum()} | {faded[group].mean():.3f} | " + " | ".join(shares) + " |"
        )
    print(
        "\n| held cells | P(correct) faded (median [IQR]) | P(correct) true | "
        "AUC model recall | AUC days since practice | AUC accuracy so far |"
    )
    print("|---|---|---|---|---|---|")
    for name, group in groups.items():
        y = faded[group]
        if y.all() or not y.any():
            continue
        low, mid, high = np.quantile(p_correct[group & faded], [0.25, 0.5, 0.75])
        t_low, t_mid, t_high = np.quantile(p_correct[group & ~faded], [0.25, 0.5, 0.75])
        # Each signal as a score in [0, 1] that rises with the risk of having faded.
        scores = (1.0 - recall[group], days[group] / (1.0 + days[group]), 1.0 - accuracy[group])
        aucs = " | ".join(f"{auc(y, score):.3f}" for score in scores)
        print(
            f"| {name} | {mid:.3f} [{low:.3f}, {high:.3f}] | {t_mid:.3f} [{t_low:.3f}, "
            f"{t_high:.3f}] | {aucs} |"
        )


if __name__ == "__main__":
    main()
