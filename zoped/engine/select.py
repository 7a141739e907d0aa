"""Choose the best learner model for a log: ``zoped eval --model auto``.

The training learners are split again by learner into a fitting part and a validation part;
each candidate is fitted on the first and scored (AUC) on the second; the winner is refitted on
all the training learners and scored on the test learners, who take no part in the choice.

Candidates run cheapest first. A time budget (``max_seconds``) stops starting new candidates
once it is spent (a fit already started is not interrupted; the first candidate always runs).
A candidate whose optional dependency is missing (torch for the deep models) or whose fit fails
is reported with the reason, not fatal.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from zoped.engine.base import InteractionLog, LearnerModel
from zoped.engine.evaluate import EvalReport, evaluate
from zoped.engine.metrics import all_metrics
from zoped.engine.registry import make_model, missing_dependency
from zoped.engine.split import split_by_learner
from zoped.errors import EngineError, InvalidInput, Problem, ZopedError

CANDIDATES: tuple[str, ...] = (
    "skillrate",
    "elo",
    "bkt",
    "irt",
    "irt2pl",
    "lr",
    "das3h",
    "memory",
    "dkt",
    "sakt",
    "akt",
)
"""The default candidates, roughly cheapest first."""


@dataclass(frozen=True)
class CandidateScore:
    """One candidate on the validation learners: its AUC, or why it has none."""

    model: str
    valid_auc: float | None
    fit_s: float | None
    note: str = ""


@dataclass(frozen=True)
class Selection:
    """The candidates' validation scores, the winner, and the winner's test report."""

    candidates: tuple[CandidateScore, ...]
    winner: str
    report: EvalReport
    n_fit: int
    n_valid: int
    valid_fraction: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the test report's fields, the winner and each candidate."""
        return {
            **self.report.to_dict(),
            "model": self.winner,
            "selected_by": "validation AUC",
            "valid_fraction": self.valid_fraction,
            "n_fit": self.n_fit,
            "n_valid": self.n_valid,
            "candidates": [asdict(c) for c in self.candidates],
        }


def select_model(
    train: InteractionLog,
    test: InteractionLog,
    *,
    candidates: Sequence[str] = CANDIDATES,
    valid_fraction: float = 0.2,
    seed: int = 0,
    max_seconds: float | None = None,
    make: Callable[[str], LearnerModel] | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> Selection:
    """Fit each candidate on part of ``train``, keep the best validation AUC, score it on ``test``.

    Args:
        train: the training learners' rows; split by learner into fitting and validation.
        test: the test learners' rows, used only to score the winner.
        candidates: registry names, tried in this order (ties go to the earlier one).
        valid_fraction: share of the training learners held out for validation.
        seed: seeds the validation split and the models.
        max_seconds: no candidate starts after this many seconds (None: no limit).
        make: builds a model from its name (default: the registry, with ``seed``).
        clock: seconds, for the budget and timings.

    Raises:
        InvalidInput: no candidates, a bad fraction or budget, or too few training learners.
        EngineError: no candidate could be scored.
    """
    problems = []
    if not candidates:
        problems.append(Problem("candidates", "give at least one model"))
    if not 0 < valid_fraction < 1:
        problems.append(Problem("valid_fraction", "must be in (0, 1)"))
    if max_seconds is not None and not max_seconds >= 0:
        problems.append(Problem("max_seconds", "must be zero or positive"))
    if problems:
        raise InvalidInput("cannot select a model", problems)
    build = make or (lambda name: make_model(name, seed=seed))
    fit_part, valid = split_by_learner(train, valid_fraction, np.random.default_rng(seed))
    started = clock()
    scores: list[CandidateScore] = []
    for name in candidates:
        if scores and max_seconds is not None and clock() - started >= max_seconds:
            scores.append(CandidateScore(name, None, None, f"not run: {max_seconds:g} s spent"))
            continue
        missing = missing_dependency(name)
        if missing:
            scores.append(CandidateScore(name, None, None, f"skipped: {missing}"))
            continue
        t0 = clock()
        try:
            model = build(name).fit(fit_part)
            p = np.asarray(model.predict_proba(valid), dtype=np.float64)
            auc = all_metrics(valid.correct, p)["auc"]
        except ZopedError as error:
            scores.append(CandidateScore(name, None, clock() - t0, f"failed: {error}"))
            continue
        if not np.isfinite(auc):
            scores.append(CandidateScore(name, None, clock() - t0, "no AUC on validation"))
            continue
        scores.append(CandidateScore(name, float(auc), clock() - t0))
    scored = [s for s in scores if s.valid_auc is not None]
    if not scored:
        reasons = [Problem(s.model, s.note) for s in scores]
        raise EngineError(
            "no candidate model could be scored: "
            + "; ".join(f"{p.location}: {p.message}" for p in reasons)
        )
    winner = max(scored, key=lambda s: s.valid_auc or 0.0).model
    report = evaluate(build(winner), train, test, clock=clock)
    return Selection(
        candidates=tuple(scores),
        winner=winner,
        report=report,
        n_fit=len(fit_part),
        n_valid=len(valid),
        valid_fraction=valid_fraction,
    )
