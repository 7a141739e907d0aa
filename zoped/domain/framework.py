"""Competency frameworks: a hierarchy (``parent``) and a prerequisite DAG over competencies.

A :class:`Framework` cannot exist in an invalid state: its constructor refuses duplicate ids,
references to unknown competencies and cycles (among prerequisites or among parents), and
reports *every* offending competency at once, each with its location.  The graph helpers
(topological order, prerequisites, dependents, roots, children) are what the mastery engine
and the recommender walk, so they are precomputed once when the framework is built.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from zoped.errors import InvalidInput, NotFound, Problem

#: Ids of competencies, activities, items, rubrics, options and criteria.
SLUG_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"
_SLUG = re.compile(SLUG_PATTERN)


def is_slug(value: str) -> bool:
    """Whether ``value`` is a valid id: lower-case letters, digits, ``.``, ``_`` and ``-``."""
    return bool(_SLUG.match(value))


def slug_problems(value: str, location: str) -> list[Problem]:
    """A one-element list describing why ``value`` is not a slug, or an empty list."""
    if is_slug(value):
        return []
    return [
        Problem(
            location,
            f"{value!r} is not a valid id (lower-case letters, digits, '.', '_' and '-', "
            "starting with a letter or digit)",
        )
    ]


@dataclass(frozen=True)
class Competency:
    """One thing a learner can learn, e.g. "add fractions with unlike denominators".

    Attributes:
        id: a slug, unique within its framework.
        title: a short human name.
        description: what mastering it means, in plain words.
        parent: the id of a grouping competency (the hierarchy), or None for a top-level one.
        prerequisites: ids of competencies to learn before this one (the DAG's edges).
        standard_code: an external standard's code (e.g. "3.NF.A.1"), if any.
        grade_band: a free-text grade band (e.g. "3-4"), if any.
    """

    id: str
    title: str
    description: str = ""
    parent: str | None = None
    prerequisites: tuple[str, ...] = ()
    standard_code: str | None = None
    grade_band: str | None = None

    def __post_init__(self) -> None:
        # Accept any sequence from callers but store a tuple, so the value stays hashable.
        object.__setattr__(self, "prerequisites", tuple(self.prerequisites))


def _default_locate(index: int) -> str:
    return f"competencies[{index}]"


def _cyclic_components(nodes: Sequence[str], edges: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """Strongly connected components that contain a cycle (size > 1, or a self-loop).

    Tarjan's algorithm, written iteratively so that a long prerequisite chain cannot hit
    Python's recursion limit.  Every id in a returned component lies on some cycle.
    """
    index_of: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in nodes:
        if start in index_of:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(edges.get(start, ())))]
        index_of[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            advanced = False
            for succ in successors:
                if succ not in index_of:
                    index_of[succ] = low[succ] = counter
                    counter += 1
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(edges.get(succ, ()))))
                    advanced = True
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index_of[succ])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index_of[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in edges.get(node, ()):
                    found.append(component)
    return found


def framework_problems(
    competencies: Sequence[Competency | None],
    *,
    locate: Callable[[int], str] = _default_locate,
    unreadable_ids: Collection[str] = (),
) -> list[Problem]:
    """Every problem with a list of competencies, in file order.

    Args:
        competencies: the competencies; ``None`` stands for an entry that could not be read
            (a reader reports that one itself) and is skipped, keeping the others' positions.
        locate: the location of the entry at an index, e.g. ``competencies[4]``.
        unreadable_ids: ids of entries that could not be read, so that references to them are
            not also reported as dangling.

    Returns:
        The problems: malformed or duplicate ids, unknown parents or prerequisites, a
        prerequisite listed twice, and every competency on a prerequisite or parent cycle.
    """
    problems: list[Problem] = []
    first_at: dict[str, int] = {}
    for index, comp in enumerate(competencies):
        if comp is None:
            continue
        problems += slug_problems(comp.id, f"{locate(index)}.id")
        if not comp.title.strip():
            problems.append(Problem(f"{locate(index)}.title", "must not be empty"))
        if comp.id in first_at:
            problems.append(
                Problem(
                    f"{locate(index)}.id",
                    f"duplicate competency id {comp.id!r} (first at {locate(first_at[comp.id])})",
                )
            )
        else:
            first_at[comp.id] = index
    known = set(first_at) | set(unreadable_ids)

    prereq_edges: dict[str, list[str]] = {}
    parent_edges: dict[str, list[str]] = {}
    for index, comp in enumerate(competencies):
        if comp is None:
            continue
        where = locate(index)
        if comp.parent is not None:
            if comp.parent not in known:
                problems.append(Problem(f"{where}.parent", f"unknown competency {comp.parent!r}"))
            elif first_at.get(comp.id) == index and comp.parent in first_at:
                parent_edges[comp.id] = [comp.parent]
        seen: set[str] = set()
        for position, prereq in enumerate(comp.prerequisites):
            if prereq not in known:
                problems.append(
                    Problem(f"{where}.prerequisites[{position}]", f"unknown competency {prereq!r}")
                )
            elif prereq in seen:
                problems.append(
                    Problem(f"{where}.prerequisites[{position}]", f"{prereq!r} is listed twice")
                )
            elif first_at.get(comp.id) == index and prereq in first_at:
                prereq_edges.setdefault(comp.id, []).append(prereq)
            seen.add(prereq)

    order = list(first_at)
    for edges, what, attr in (
        (prereq_edges, "prerequisite", "prerequisites"),
        (parent_edges, "parent", "parent"),
    ):
        for component in _cyclic_components(order, edges):
            members = sorted(component, key=first_at.__getitem__)
            for member in members:
                others = [m for m in members if m != member]
                with_whom = f" with {', '.join(others)}" if others else " (it lists itself)"
                problems.append(
                    Problem(
                        f"{locate(first_at[member])}.{attr}",
                        f"{member!r} is on a {what} cycle{with_whom}",
                    )
                )
    return problems


@dataclass(frozen=True)
class Framework:
    """A valid competency framework: unique ids, resolved references, no cycles.

    Build one with :meth:`build` (or the constructor, which does the same checks).

    Raises:
        InvalidInput: listing every problem found by :func:`framework_problems`.
    """

    competencies: tuple[Competency, ...]
    _by_id: dict[str, Competency] = field(init=False, repr=False, compare=False)
    _children: dict[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)
    _dependents: dict[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)
    _order: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        comps = tuple(self.competencies)
        object.__setattr__(self, "competencies", comps)
        problems = framework_problems(comps)
        if problems:
            raise InvalidInput("invalid competency framework", problems)
        by_id = {c.id: c for c in comps}
        children: dict[str, list[str]] = {c.id: [] for c in comps}
        dependents: dict[str, list[str]] = {c.id: [] for c in comps}
        for comp in comps:
            if comp.parent is not None:
                children[comp.parent].append(comp.id)
            for prereq in comp.prerequisites:
                dependents[prereq].append(comp.id)
        object.__setattr__(self, "_by_id", by_id)
        object.__setattr__(self, "_children", {k: tuple(v) for k, v in children.items()})
        object.__setattr__(self, "_dependents", {k: tuple(v) for k, v in dependents.items()})
        object.__setattr__(self, "_order", self._topological(comps, dependents))

    @classmethod
    def build(cls, competencies: Iterable[Competency]) -> Framework:
        """Check and build a framework.

        Raises:
            InvalidInput: with one problem per offending competency (duplicate id, unknown
                reference, or membership of a cycle), each located as ``competencies[i]...``.
        """
        return cls(tuple(competencies))

    @staticmethod
    def _topological(
        comps: Sequence[Competency], dependents: Mapping[str, Sequence[str]]
    ) -> tuple[str, ...]:
        # Kahn's algorithm; ties broken by file order so the result is stable across runs.
        position = {c.id: i for i, c in enumerate(comps)}
        remaining = {c.id: len(c.prerequisites) for c in comps}
        ready = sorted((cid for cid, n in remaining.items() if n == 0), key=position.__getitem__)
        order: list[str] = []
        while ready:
            current = ready.pop(0)
            order.append(current)
            released = []
            for dep in dependents[current]:
                remaining[dep] -= 1
                if remaining[dep] == 0:
                    released.append(dep)
            if released:
                ready = sorted([*ready, *released], key=position.__getitem__)
        return tuple(order)

    def __len__(self) -> int:
        return len(self.competencies)

    def __iter__(self) -> Iterator[Competency]:
        return iter(self.competencies)

    def __contains__(self, competency_id: object) -> bool:
        return competency_id in self._by_id

    @property
    def ids(self) -> tuple[str, ...]:
        """The competency ids in file order."""
        return tuple(c.id for c in self.competencies)

    def get(self, competency_id: str) -> Competency:
        """The competency with this id.

        Raises:
            NotFound: when there is none.
        """
        try:
            return self._by_id[competency_id]
        except KeyError:
            raise NotFound(f"no competency {competency_id!r} in this framework") from None

    def topological_order(self) -> tuple[str, ...]:
        """Every id, each after all its prerequisites; ties keep file order."""
        return self._order

    def prerequisites_of(self, competency_id: str, *, transitive: bool = False) -> tuple[str, ...]:
        """The prerequisites of a competency: direct ones, or all ancestors in the DAG.

        Transitive results come in topological order (deepest foundations first).
        """
        direct = self.get(competency_id).prerequisites
        if not transitive:
            return direct
        return self._closure(competency_id, lambda cid: self._by_id[cid].prerequisites)

    def dependents_of(self, competency_id: str, *, transitive: bool = False) -> tuple[str, ...]:
        """The competencies that need this one: direct ones, or all descendants in the DAG.

        Transitive results come in topological order.
        """
        self.get(competency_id)
        if not transitive:
            return self._dependents[competency_id]
        return self._closure(competency_id, self._dependents.__getitem__)

    def _closure(self, start: str, step: Callable[[str], Sequence[str]]) -> tuple[str, ...]:
        seen: set[str] = set()
        frontier = list(step(start))
        while frontier:
            current = frontier.pop()
            if current not in seen:
                seen.add(current)
                frontier.extend(step(current))
        return tuple(cid for cid in self._order if cid in seen)

    def roots(self) -> tuple[str, ...]:
        """Top-level competencies of the hierarchy (those without a parent), in file order."""
        return tuple(c.id for c in self.competencies if c.parent is None)

    def entry_points(self) -> tuple[str, ...]:
        """Competencies without prerequisites: where a new learner can start."""
        return tuple(c.id for c in self.competencies if not c.prerequisites)

    def children(self, competency_id: str) -> tuple[str, ...]:
        """Direct children in the hierarchy, in file order."""
        self.get(competency_id)
        return self._children[competency_id]

    def descendants(self, competency_id: str) -> tuple[str, ...]:
        """Every competency below this one in the hierarchy (children, theirs, ...)."""
        self.get(competency_id)
        found: list[str] = []
        frontier = list(self._children[competency_id])
        while frontier:
            current = frontier.pop(0)
            found.append(current)
            frontier.extend(self._children[current])
        return tuple(found)
