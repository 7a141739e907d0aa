"""Suggested small groups and peer tutors for a class: pure functions over levels.

Teachers copy skill levels into spreadsheets to form small groups by hand; these functions do it
for them, and say why each suggestion was made.

* A **group** is a few learners whose next competency is the same, so one short lesson helps all
  of them. Learners alone on their next competency get no group; a crowd on one competency is
  split into balanced groups of at most ``max_size``.
* A **peer tutor** is a learner who has mastered (and still recalls: not review due) what another
  learner is stuck on. Each tutor is asked to help at most ``max_learners_per_tutor`` learners,
  and the least-asked tutor is chosen first, so the load is shared.

Both are deterministic: the same input gives the same suggestions.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from zoped.engine.mastery import MasteryLevel
from zoped.errors import InvalidInput, Problem


@dataclass(frozen=True)
class GroupingConfig:
    """Group sizes and the tutoring load. Validated on construction.

    Raises:
        InvalidInput: every bad value at once.
    """

    min_size: int = 2
    max_size: int = 5
    max_learners_per_tutor: int = 2

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        for name in ("min_size", "max_size", "max_learners_per_tutor"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                problems.append(Problem(name, f"must be an integer >= 1, got {value!r}"))
        if not problems and self.min_size > self.max_size:
            problems.append(Problem("max_size", "must be at least min_size"))
        if problems:
            raise InvalidInput("invalid grouping configuration", problems)


@dataclass(frozen=True)
class SuggestedGroup:
    """Learners who share the same next competency."""

    competency: str
    learner_ids: tuple[str, ...]


@dataclass(frozen=True)
class PeerTutorMatch:
    """A learner who mastered ``competency`` and a classmate stuck on it."""

    competency: str
    learner_id: str
    tutor_id: str


def _split(members: Sequence[str], max_size: int) -> list[tuple[str, ...]]:
    """Split into the fewest groups of at most ``max_size``, sizes differing by at most one."""
    n_groups = math.ceil(len(members) / max_size)
    base, extra = divmod(len(members), n_groups)
    out: list[tuple[str, ...]] = []
    start = 0
    for index in range(n_groups):
        size = base + (1 if index < extra else 0)
        out.append(tuple(members[start : start + size]))
        start += size
    return out


def suggest_groups(
    next_competency: Mapping[str, str | None],
    *,
    order: Sequence[str] = (),
    config: GroupingConfig | None = None,
) -> list[SuggestedGroup]:
    """Small groups of learners who share the same next competency.

    Args:
        next_competency: learner id -> the competency they should learn next (None: nothing
            to learn next, e.g. everything mastered; such learners join no group).
        order: competency ids in the order groups should be listed (e.g. topological);
            competencies not in it come after, by id.
        config: group sizes.

    Returns:
        Groups in ``order``, each with at least ``min_size`` and at most ``max_size`` learners
        (sorted by id).
    """
    cfg = config or GroupingConfig()
    by_competency: dict[str, list[str]] = {}
    for learner_id, competency in sorted(next_competency.items()):
        if competency is not None:
            by_competency.setdefault(competency, []).append(learner_id)
    rank = {cid: i for i, cid in enumerate(order)}
    groups: list[SuggestedGroup] = []
    for competency in sorted(by_competency, key=lambda c: (rank.get(c, len(rank)), c)):
        members = by_competency[competency]
        if len(members) < cfg.min_size:
            continue
        groups.extend(
            SuggestedGroup(competency, chunk)
            for chunk in _split(members, cfg.max_size)
            if len(chunk) >= cfg.min_size
        )
    return groups


def suggest_peer_tutors(
    stuck_on: Mapping[str, Sequence[str]],
    levels: Mapping[str, Mapping[str, MasteryLevel]],
    *,
    config: GroupingConfig | None = None,
) -> list[PeerTutorMatch]:
    """Pair each learner stuck on a competency with a classmate who mastered it.

    Args:
        stuck_on: learner id -> the competencies they are stuck on.
        levels: learner id -> competency id -> level, for every learner of the class.
        config: the most learners one tutor is asked to help.

    Returns:
        One match per (stuck learner, competency) for which a tutor is free, ordered by
        competency then learner. A learner never tutors themself, and a tutor's level is
        mastered (review due does not count: they should refresh it first).
    """
    cfg = config or GroupingConfig()
    load: dict[str, int] = {}
    # Per competency, its masters as a heap of (load when pushed, id): the least-loaded tutor
    # (ties by id) is on top once stale entries (whose load has grown since) are pushed again.
    free: dict[str, list[tuple[int, str]]] = {}
    for master, by_competency in sorted(levels.items()):
        for competency, level in by_competency.items():
            if level == MasteryLevel.MASTERED:
                free.setdefault(competency, []).append((0, master))
    matches: list[PeerTutorMatch] = []
    pairs = sorted((c, learner) for learner, comps in stuck_on.items() for c in set(comps))
    for competency, learner_id in pairs:
        heap = free.get(competency, [])
        heapq.heapify(heap)
        skipped: list[tuple[int, str]] = []
        tutor: str | None = None
        while heap:
            pushed, candidate = heapq.heappop(heap)
            current = load.get(candidate, 0)
            if current >= cfg.max_learners_per_tutor:
                continue  # busy for good: load never falls
            if pushed != current:
                heapq.heappush(heap, (current, candidate))
            elif candidate == learner_id:
                skipped.append((current, candidate))
            else:
                tutor = candidate
                break
        for entry in skipped:
            heapq.heappush(heap, entry)
        if tutor is None:
            continue
        load[tutor] = load.get(tutor, 0) + 1
        heapq.heappush(heap, (load[tutor], tutor))
        matches.append(PeerTutorMatch(competency, learner_id, tutor))
    return matches
