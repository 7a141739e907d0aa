"""Invariants of frameworks and course files, over generated DAGs and courses."""

from __future__ import annotations

import json

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from tests.strategies import competency_lists, courses, frameworks
from zoped.domain.course import Course
from zoped.domain.framework import Competency, Framework
from zoped.errors import InvalidInput
from zoped.interop.course_file import dump_course, parse_course


@given(frameworks())
def test_topological_order_lists_every_id_after_its_prerequisites(framework: Framework) -> None:
    order = framework.topological_order()
    assert sorted(order) == sorted(framework.ids)
    position = {cid: i for i, cid in enumerate(order)}
    for comp in framework:
        assert all(position[p] < position[comp.id] for p in comp.prerequisites)


@given(frameworks())
def test_transitive_prerequisites_and_dependents_mirror_each_other(framework: Framework) -> None:
    for a in framework.ids:
        for b in framework.prerequisites_of(a, transitive=True):
            assert a in framework.dependents_of(b, transitive=True)
        assert a not in framework.prerequisites_of(a, transitive=True)
        direct = set(framework.prerequisites_of(a))
        assert direct <= set(framework.prerequisites_of(a, transitive=True))


@given(frameworks())
def test_children_partition_the_hierarchy(framework: Framework) -> None:
    below_roots = [framework.descendants(r) for r in framework.roots()]
    covered = list(framework.roots()) + [cid for group in below_roots for cid in group]
    assert sorted(covered) == sorted(framework.ids)


@given(competency_lists(min_size=2, shuffle=False), st.data())
def test_a_back_edge_is_reported_on_every_competency_of_the_cycle(
    comps: list[Competency], data: st.DataObject
) -> None:
    # Competencies only point backwards, so making the first one need the last closes a
    # cycle through every competency on some path from the last back to the first.
    framework = Framework.build(comps)
    last = comps[-1].id
    first = comps[0].id
    path = set(framework.prerequisites_of(last, transitive=True)) | {last}
    if first not in path:
        return  # no path back: the new edge would not close a cycle
    on_cycle = {
        cid for cid in path if cid == last or last in framework.dependents_of(cid, transitive=True)
    } & ({first} | set(framework.dependents_of(first, transitive=True)))
    broken = [Competency(first, "First", prerequisites=(last,)), *comps[1:]]
    with pytest.raises(InvalidInput) as error:
        Framework.build(broken)
    reported = {p.message.split("'")[1] for p in error.value.problems if "cycle" in p.message}
    assert reported == on_cycle


@given(courses())
def test_course_files_round_trip(course: Course) -> None:
    document = dump_course(course)
    assert parse_course(document) == course
    # ...also through the text formats, which is how files really travel.
    assert parse_course(json.loads(json.dumps(document))) == course
    assert parse_course(yaml.safe_load(yaml.safe_dump(document, allow_unicode=True))) == course
