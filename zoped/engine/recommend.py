"""The recommender: a short menu of good next activities, each with a reason in plain words.

Candidates come from four sources: the ready-to-learn frontier (every competency of the activity
unlocked, at least one not yet mastered), reviews that are due, the learner's plan goals and the
activities they left unfinished. A candidate whose competencies are not all unlocked is never
considered, so the menu can never offer a locked competency.

Each candidate gets a score, a weighted sum of parts in [0, 1] (weights in
:class:`RecommenderConfig`)::

    difficulty   1 inside the desirable-difficulty band (0.70-0.85), falling linearly to 0 at
                 ``band_tolerance`` outside it. With ``band_scale="relative"`` (default) the
                 band is placed on the model's attainable range of success: an item the
                 model predicts right with ``guess + q (1 - slip - guess)`` sits at ``q`` =
                 P(known) of its competencies (the product for several), so the band means
                 "70-85 % of the way from chance to a knower's success" whatever the fitted
                 guess and slip. ``"absolute"`` applies it to predicted success itself.
    goal         1 if it teaches a plan goal, 0.5 if it teaches a step towards one
    interest     1 if it shares an interest tag with the learner
    modality     1 if its modality is one the learner prefers
    variety      1 minus the share of the learner's recent choices with the same modality and
                 the same competencies (no echo chamber)
    review       1 if it covers a review that is due
    unfinished   1 if the learner started it
    recheck      1 if it practises a prerequisite under re-check: the learner kept missing a
                 competency that needs it (:class:`zoped.engine.mastery.MasteryTracker`), so
                 it is checked again before moving on
    foundation   the share of the course still locked behind it: the number of its
                 descendants not yet proficient over the most of any competency (foundations
                 that many later steps need come first). Weight 0 by default: it did not
                 help in the simulator (bench/results/pathways.md)

The menu follows three rules (docs/pathways.md, "The menu's rules"):

- **A floor.** No option's predicted success is below ``success_floor`` (:data:`SUCCESS_FLOOR`)
  unless no candidate reaches it: then the menu offers what there is, best first.
- **At most half reviews** while new work is open: a menu never holds more reviews than
  other options, unless reviews are all there is.
- **Other options are other options.** The candidates are ranked greedily (the best first,
  then each next one the best after a penalty for repeating a modality or competency ranked
  before it). Page 0 takes the best of the new work and of the reviews; page ``p`` moves ``p``
  menus further down each list, round and round, so with more candidates than places the
  next page always shows at least one card the previous did not.

Ties are broken by a permutation drawn from ``seed``, so the same state, seed and page give the
same menu. Each reason words the numbers that ranked its option, in plain words
(:mod:`zoped.engine.menu_reasons`). :func:`score_parts` is the vectorised core, shared with the
simulator.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, tzinfo
from typing import Any

import numpy as np
from numpy.typing import NDArray

from zoped.domain.content import Activity
from zoped.engine.graph import CompetencyGraph
from zoped.engine.mastery import MasteryLevel, at_least_proficient
from zoped.engine.menu_reasons import option_reason
from zoped.errors import InvalidInput, Problem

FloatArray = NDArray[np.float64]
#: The floor of predicted success: no option below it is offered while any candidate reaches
#: it (about 3 times in 10 is already a guess on many questions).
SUCCESS_FLOOR = 0.3
PARTS = (
    "difficulty",
    "goal",
    "interest",
    "modality",
    "variety",
    "review",
    "unfinished",
    "recheck",
    "foundation",
)


@dataclass(frozen=True)
class RecommenderConfig:
    """Weights and the desirable-difficulty band. Validated on construction.

    Raises:
        InvalidInput: every bad value at once.
    """

    band_low: float = 0.70
    band_high: float = 0.85
    band_tolerance: float = 0.35
    band_scale: str = "relative"
    w_difficulty: float = 1.0
    w_goal: float = 0.6
    w_interest: float = 0.3
    w_modality: float = 0.3
    w_variety: float = 0.3
    w_review: float = 0.8
    w_unfinished: float = 0.4
    w_recheck: float = 1.0
    w_foundation: float = 0.0
    repeat_penalty: float = 0.3
    k: int = 4
    recent_window: int = 6
    success_floor: float = SUCCESS_FLOOR

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        for name in ("band_low", "band_high"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and 0.0 < value < 1.0):
                problems.append(Problem(name, f"must be strictly between 0 and 1, got {value!r}"))
        if not problems and self.band_low > self.band_high:
            problems.append(Problem("band_high", "must be at least band_low"))
        if self.band_scale not in ("relative", "absolute"):
            problems.append(Problem("band_scale", "must be 'relative' or 'absolute'"))
        if not (self.band_tolerance > 0):
            problems.append(Problem("band_tolerance", "must be > 0"))
        for name in ("w_" + part for part in PARTS):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                problems.append(Problem(name, f"must be a finite weight >= 0, got {value!r}"))
        if not self.repeat_penalty >= 0:
            problems.append(Problem("repeat_penalty", "must be >= 0"))
        if not (isinstance(self.k, int) and self.k >= 1):
            problems.append(Problem("k", f"must be an integer >= 1, got {self.k!r}"))
        if not (isinstance(self.recent_window, int) and self.recent_window >= 0):
            problems.append(Problem("recent_window", "must be an integer >= 0"))
        floor = self.success_floor
        if not (isinstance(floor, int | float) and 0.0 <= floor < 1.0):
            problems.append(Problem("success_floor", f"must be from 0 to below 1, got {floor!r}"))
        if problems:
            raise InvalidInput("invalid recommender configuration", problems)

    def weights(self) -> FloatArray:
        """The weights in the order of :data:`PARTS`."""
        return np.array([getattr(self, "w_" + part) for part in PARTS], dtype=np.float64)


def floor_filter(
    p_success: FloatArray, candidates: NDArray[np.bool_], floor: float
) -> NDArray[np.bool_]:
    """The menu's floor, row by row (one row per learner): the candidates whose predicted
    success reaches ``floor``, or every candidate of a row where none does. The app's menu and
    the simulated learner's choice both apply it."""
    reach = candidates & (p_success >= floor)
    kept: NDArray[np.bool_] = np.where(reach.any(axis=-1, keepdims=True), reach, candidates)
    return kept


def difficulty_score(p_success: FloatArray, config: RecommenderConfig) -> FloatArray:
    """1 inside the band, falling linearly to 0 at ``band_tolerance`` outside it."""
    p = np.asarray(p_success, dtype=np.float64)
    distance = np.maximum(config.band_low - p, 0.0) + np.maximum(p - config.band_high, 0.0)
    return np.clip(1.0 - distance / config.band_tolerance, 0.0, 1.0)


def foundation_score(graph: CompetencyGraph, levels: NDArray[np.int64]) -> FloatArray:
    """Per competency not yet proficient: its descendants not yet proficient, over the maximum.

    ``levels`` is ``(..., n)``; the result has the same shape, in [0, 1] (0 when nothing is
    left locked anywhere).
    """
    below = ~at_least_proficient(np.asarray(levels))
    # descendants[c, d]: d needs c (directly or not).
    waiting = below.astype(np.float64) @ graph.descendants().T.astype(np.float64)
    waiting = np.where(below, waiting, 0.0)
    top = np.max(waiting, axis=-1, keepdims=True)
    out: FloatArray = np.where(top > 0, waiting / np.where(top > 0, top, 1.0), 0.0)
    return out


def score_parts(
    p_success: FloatArray,
    *,
    goal: FloatArray,
    interest: FloatArray,
    modality: FloatArray,
    variety: FloatArray,
    review: FloatArray,
    unfinished: FloatArray,
    config: RecommenderConfig,
    p_known: FloatArray | None = None,
    recheck: FloatArray | None = None,
    foundation: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Score candidates (any shape, e.g. ``(learners, candidates)``).

    ``p_known`` (P(known) of the candidate's competencies, multiplied) places the band on the
    attainable range when ``config.band_scale == "relative"``; without it the band applies to
    ``p_success``. ``recheck`` (1 for a prerequisite under re-check) and ``foundation``
    (:func:`foundation_score`) default to 0.

    Returns:
        ``(total, parts)`` where ``parts[..., j]`` is the part named ``PARTS[j]`` in [0, 1] and
        ``total`` is their weighted sum.
    """
    parts = np.stack(
        np.broadcast_arrays(
            difficulty_score(
                p_known if p_known is not None and config.band_scale == "relative" else p_success,
                config,
            ),
            goal,
            interest,
            modality,
            variety,
            review,
            unfinished,
            np.zeros(1) if recheck is None else recheck,
            np.zeros(1) if foundation is None else foundation,
        ),
        axis=-1,
    ).astype(np.float64)
    return parts @ config.weights(), parts


@dataclass(frozen=True)
class LearnerSnapshot:
    """What the recommender may know of one learner (never any hidden truth).

    Attributes:
        levels: mastery level per competency code.
        p_known: P(known) per competency code.
        p_correct: predicted P(correct) on the next item of each competency.
        retrievability: predicted recall per competency (1 where unknown).
        reached_at_s: when each competency first reached proficient (NaN if never).
        goals: competency codes on the learner's plan.
        interests: the learner's interest tags.
        preferred_modalities: modalities the learner likes.
        recent_activities: ids of the learner's latest activities, most recent last.
        unfinished: ids of activities the learner started and did not finish.
        rechecks: prerequisites under re-check, ``{code: (dependent code, missed, window,
            at_s)}`` (:meth:`zoped.engine.mastery.MasteryTracker.rechecks`): the learner missed
            ``missed`` of ``window`` answers on the dependent, the last of them at ``at_s``.
    """

    levels: NDArray[np.int64]
    p_known: FloatArray
    p_correct: FloatArray
    retrievability: FloatArray | None = None
    reached_at_s: FloatArray | None = None
    goals: frozenset[int] = frozenset()
    interests: frozenset[str] = frozenset()
    preferred_modalities: frozenset[str] = frozenset()
    recent_activities: tuple[str, ...] = ()
    unfinished: frozenset[str] = frozenset()
    rechecks: Mapping[int, tuple[int, int, int, float]] = field(default_factory=dict)


@dataclass
class ScoredCandidate:
    """One candidate in a decision record: plain values, JSON-ready."""

    activity_id: str
    competencies: list[str]
    sources: list[str]
    p_success: float
    score: float
    parts: dict[str, float]


@dataclass
class MenuOption:
    """One option on the learner's menu."""

    activity_id: str
    title: str
    modality: str
    competencies: list[str]
    reason: str
    score: float
    p_success: float


@dataclass
class RecommendationDecision:
    """The record of one recommendation, to log and to evaluate policies offline."""

    learner_id: str
    seed: int
    now_s: float
    config: dict[str, Any]
    candidates: list[ScoredCandidate]
    chosen: list[str]
    options: list[MenuOption] = field(default_factory=list)
    page: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (``json.dumps`` works on it)."""
        return asdict(self)


def _greedy_order(
    ranked: list[int],
    total: FloatArray,
    modalities: list[str],
    competencies: list[set[int]],
    *,
    penalty: float,
    window: int,
) -> list[int]:
    """Every candidate of ``ranked`` (best first) in menu order: each next one is the best after
    ``penalty`` for each of its modality and its competencies already among the last
    ``window`` placed (so each run of ``window`` mixes modalities and topics)."""
    left = list(ranked)
    order: list[int] = []
    while left:
        recent = order[-window:]
        mods = {modalities[i] for i in recent}
        taken = {c for i in recent for c in competencies[i]}

        def adjusted(j: int, mods: set[str] = mods, taken: set[int] = taken) -> float:
            repeat = (modalities[j] in mods) + bool(taken & competencies[j])
            return float(total[j]) - penalty * repeat

        at = max(range(len(left)), key=lambda i: (adjusted(left[i]), -i))
        order.append(left.pop(at))
    return order


def _page(order: list[int], is_review: list[bool], *, size: int, page: int) -> list[int]:
    """The candidates of menu ``page``, in ``order``'s order.

    A menu holds at most as many reviews as other options while any other option is left,
    and at least one of each where both exist and ``size >= 2``. Each page moves one menu's
    share further down the new work and the reviews, wrapping round.
    """
    new = [j for j in order if not is_review[j]]
    due = [j for j in order if is_review[j]]
    if new:
        n_due = min(len(due), size // 2)
        n_new = min(len(new), size - n_due)
        n_due = min(n_due, n_new)
    else:
        n_due, n_new = min(len(due), size), 0
    picked = {new[(page * n_new + i) % len(new)] for i in range(n_new)}
    picked |= {due[(page * n_due + i) % len(due)] for i in range(n_due)}
    return [j for j in order if j in picked]


def recommend_next(
    graph: CompetencyGraph,
    activities: Sequence[Activity],
    learner: LearnerSnapshot,
    *,
    k: int | None = None,
    config: RecommenderConfig | None = None,
    seed: int = 0,
    page: int = 0,
    now_s: float = 0.0,
    zone: tzinfo = UTC,
    learner_id: str = "",
) -> RecommendationDecision:
    """Choose a menu of up to ``k`` activities for one learner, and record why.

    Args:
        graph: the competency graph the levels refer to.
        activities: the course's activities (their competencies must be in the graph).
        learner: the learner's state as zoped models it.
        k: menu size (default ``config.k``).
        config: weights and band.
        seed: breaks ties; the same state, seed and page give the same menu.
        page: which menu of the ranked candidates ("show me other options" asks for the
            next); with more candidates than places and ``k >= 2``, page ``p + 1`` shows at
            least one option page ``p`` did not.
        now_s: the time, for wording reasons ("on Monday").
        zone: the learner's school's time zone, whose days the reasons name (the menus
            service passes it; UTC only for callers with no school: the engine's unit and
            property tests).
        learner_id: copied into the record.

    Raises:
        InvalidInput: an activity names a competency that is not in the graph, or bad shapes.
    """
    cfg = config or RecommenderConfig()
    size = cfg.k if k is None else k
    if size < 1:
        raise InvalidInput("bad menu size", [Problem("k", f"must be >= 1, got {size}")])
    if page < 0:
        raise InvalidInput("bad menu page", [Problem("page", f"must be >= 0, got {page}")])
    n = graph.n
    levels = np.asarray(learner.levels, dtype=np.int64)
    if levels.shape != (n,) or learner.p_correct.shape != (n,) or learner.p_known.shape != (n,):
        raise InvalidInput(
            "learner snapshot does not match the graph", [Problem("levels", "shape")]
        )
    unlocked = graph.unlocked(at_least_proficient(levels))
    due = levels == MasteryLevel.REVIEW_DUE
    open_ = unlocked & ((levels < MasteryLevel.MASTERED) | due)
    goal_ancestors = np.zeros(n, dtype=np.bool_)
    for g in learner.goals:
        goal_ancestors |= graph.ancestors[g]
    recent = learner.recent_activities[-cfg.recent_window :] if cfg.recent_window else ()
    by_id = {a.id: a for a in activities}
    recent_modalities = [str(by_id[r].modality) for r in recent if r in by_id]
    recent_comps = [set(by_id[r].competencies) for r in recent if r in by_id]

    rows: list[tuple[Activity, list[int], list[str]]] = []
    problems: list[Problem] = []
    for i, activity in enumerate(activities):
        missing = [c for c in activity.competencies if c not in graph.ids]
        if missing:
            problems.append(Problem(f"activities[{i}].competencies", f"unknown {missing}"))
            continue
        codes = [graph.code(c) for c in activity.competencies]
        if not all(unlocked[c] for c in codes):
            continue  # never offer a locked competency
        targets = [c for c in codes if open_[c]]
        if not targets:
            continue  # everything it teaches is mastered and not due
        sources = ["frontier"]
        if any(due[c] for c in targets):
            sources = ["review"]
        elif any(c in learner.rechecks for c in targets):
            sources = ["recheck"]
        if any(c in learner.goals or goal_ancestors[c] for c in targets):
            sources.append("goal")
        if activity.id in learner.unfinished:
            sources.append("unfinished")
        # Due reviews and unmastered targets first, so the reason talks about what matters.
        targets.sort(
            key=lambda c: (
                not due[c],
                c not in learner.rechecks,
                levels[c] >= MasteryLevel.MASTERED,
            )
        )
        rows.append((activity, targets, sources))
    if problems:
        raise InvalidInput("activities do not match the graph", problems)
    if not rows:
        return RecommendationDecision(learner_id, seed, now_s, asdict(cfg), [], [], [], page)

    m = len(rows)
    p_success = np.array(
        [
            float(np.prod(learner.p_correct[[graph.code(c) for c in a.competencies]]))
            for a, _, _ in rows
        ]
    )
    known = np.array(
        [
            float(np.prod(learner.p_known[[graph.code(c) for c in a.competencies]]))
            for a, _, _ in rows
        ]
    )
    goal = np.array(
        [
            1.0 if any(c in learner.goals for c in t) else 0.5 if "goal" in s else 0.0
            for _, t, s in rows
        ]
    )
    interest = np.array([1.0 if set(a.interests) & learner.interests else 0.0 for a, _, _ in rows])
    modality = np.array(
        [1.0 if str(a.modality) in learner.preferred_modalities else 0.0 for a, _, _ in rows]
    )
    variety = np.ones(m)
    if recent:
        for j, (a, _, _) in enumerate(rows):
            same_mod = sum(mod == str(a.modality) for mod in recent_modalities) / len(recent)
            same_comp = sum(bool(rc & set(a.competencies)) for rc in recent_comps) / len(recent)
            variety[j] = 1.0 - 0.5 * same_mod - 0.5 * same_comp
    review = np.array([1.0 if "review" in s else 0.0 for _, _, s in rows])
    unfinished = np.array([1.0 if "unfinished" in s else 0.0 for _, _, s in rows])
    recheck = np.array([1.0 if "recheck" in s else 0.0 for _, _, s in rows])
    found = foundation_score(graph, levels)
    foundation = np.array([max(float(found[c]) for c in t) for _, t, _ in rows])
    total, parts = score_parts(
        p_success,
        goal=goal,
        interest=interest,
        modality=modality,
        variety=variety,
        review=review,
        unfinished=unfinished,
        config=cfg,
        p_known=known,
        recheck=recheck,
        foundation=foundation,
    )
    # Seeded tie-break: a permutation, then a stable sort by score.
    rng = np.random.default_rng(seed)
    perm = rng.permutation(m)
    ranked = [int(j) for j in perm[np.argsort(-total[perm], kind="stable")]]
    offered = floor_filter(p_success, np.ones(m, dtype=np.bool_), cfg.success_floor)
    ranked = [j for j in ranked if offered[j]]
    order = _greedy_order(
        ranked,
        total,
        [str(a.modality) for a, _, _ in rows],
        [set(t) for _, t, _ in rows],
        penalty=cfg.repeat_penalty,
        window=size,
    )
    chosen = _page(order, ["review" in s for _, _, s in rows], size=size, page=page)
    placed = known if cfg.band_scale == "relative" else p_success

    candidates = [
        ScoredCandidate(
            activity_id=a.id,
            competencies=[graph.ids[c] for c in t],
            sources=s,
            p_success=float(p_success[j]),
            score=float(total[j]),
            parts={name: float(parts[j, i]) for i, name in enumerate(PARTS)},
        )
        for j, (a, t, s) in enumerate(rows)
    ]
    options = [
        MenuOption(
            activity_id=rows[j][0].id,
            title=rows[j][0].title,
            modality=str(rows[j][0].modality),
            competencies=[graph.ids[c] for c in rows[j][1]],
            reason=option_reason(
                graph,
                rows[j][0],
                rows[j][1],
                rows[j][2],
                float(p_success[j]),
                float(placed[j]),
                learner,
                cfg,
                now_s,
                zone,
            ),
            score=float(total[j]),
            p_success=float(p_success[j]),
        )
        for j in chosen
    ]
    return RecommendationDecision(
        learner_id=learner_id,
        seed=seed,
        page=page,
        now_s=now_s,
        config=asdict(cfg),
        candidates=candidates,
        chosen=[o.activity_id for o in options],
        options=options,
    )


def item_success(p_correct: float, difficulty: float | None) -> float:
    """Predicted success on one item: the competency's P(correct), shifted by the item's
    difficulty. An item of difficulty 0.5 (or unrated) predicts the competency's P(correct);
    each 0.1 of difficulty above it lowers the log-odds by 0.4."""
    p = min(max(p_correct, 1e-3), 1 - 1e-3)
    logit = math.log(p / (1 - p)) - 4.0 * ((difficulty if difficulty is not None else 0.5) - 0.5)
    return 1.0 / (1.0 + math.exp(-logit))
