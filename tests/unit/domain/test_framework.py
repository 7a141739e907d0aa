"""Frameworks: every problem reported at once, and the graph helpers the engine walks."""

from __future__ import annotations

import pytest

from zoped.domain.framework import Competency, Framework, framework_problems, is_slug
from zoped.errors import InvalidInput, NotFound


def comp(cid: str, *prereqs: str, parent: str | None = None) -> Competency:
    return Competency(id=cid, title=cid.upper(), prerequisites=prereqs, parent=parent)


@pytest.fixture
def fractions() -> Framework:
    # frac groups unit and add; add needs unit; mixed needs add; ratio needs unit.
    return Framework.build(
        [
            comp("frac"),
            comp("mixed", "add", parent="frac"),
            comp("add", "unit", parent="frac"),
            comp("unit", parent="frac"),
            comp("ratio", "unit"),
        ]
    )


def locations(error: pytest.ExceptionInfo[InvalidInput]) -> set[str]:
    return {p.location for p in error.value.problems}


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(InvalidInput) as error:
        Framework.build(
            [
                comp("a", "b"),
                comp("b", "c"),
                comp("c", "a"),  # a -> b -> c -> a
                comp("d", "ghost"),  # dangling prerequisite
                comp("e", parent="nobody"),  # dangling parent
                comp("a"),  # duplicate id
                comp("f", "f"),  # self loop
                comp("g", parent="h"),
                comp("h", parent="g"),  # parent cycle
            ]
        )
    assert locations(error) == {
        "competencies[0].prerequisites",
        "competencies[1].prerequisites",
        "competencies[2].prerequisites",
        "competencies[3].prerequisites[0]",
        "competencies[4].parent",
        "competencies[5].id",
        "competencies[6].prerequisites",
        "competencies[7].parent",
        "competencies[8].parent",
    }
    cycle = [
        p.message for p in error.value.problems if p.location == "competencies[0].prerequisites"
    ]
    assert cycle == ["'a' is on a prerequisite cycle with b, c"]


def test_duplicate_prerequisite_and_bad_ids_are_reported() -> None:
    problems = framework_problems([comp("a"), comp("b", "a", "a"), comp("Bad Id")])
    assert {p.location for p in problems} == {
        "competencies[1].prerequisites[1]",
        "competencies[2].id",
    }


def test_unreadable_entries_keep_positions_and_are_not_dangling() -> None:
    problems = framework_problems([None, comp("b", "a"), comp("c", "zz")], unreadable_ids={"a"})
    assert [p.location for p in problems] == ["competencies[2].prerequisites[0]"]


def test_topological_order_puts_prerequisites_first_and_keeps_file_order(
    fractions: Framework,
) -> None:
    assert fractions.topological_order() == ("frac", "unit", "add", "mixed", "ratio")


def test_direct_and_transitive_relations(fractions: Framework) -> None:
    assert fractions.prerequisites_of("mixed") == ("add",)
    assert fractions.prerequisites_of("mixed", transitive=True) == ("unit", "add")
    assert fractions.dependents_of("unit") == ("add", "ratio")
    assert fractions.dependents_of("unit", transitive=True) == ("add", "mixed", "ratio")
    assert fractions.dependents_of("mixed", transitive=True) == ()


def test_hierarchy_helpers(fractions: Framework) -> None:
    assert fractions.roots() == ("frac", "ratio")
    assert fractions.entry_points() == ("frac", "unit")
    assert fractions.children("frac") == ("mixed", "add", "unit")
    assert fractions.descendants("frac") == ("mixed", "add", "unit")
    assert "unit" in fractions
    assert "nope" not in fractions
    assert len(fractions) == 5


def test_unknown_competency_is_not_found(fractions: Framework) -> None:
    with pytest.raises(NotFound):
        fractions.get("nope")
    with pytest.raises(NotFound):
        fractions.dependents_of("nope")


def test_long_chain_does_not_hit_the_recursion_limit() -> None:
    chain = [comp("c0")] + [comp(f"c{i}", f"c{i - 1}") for i in range(1, 5000)]
    framework = Framework.build(chain)
    assert framework.topological_order()[-1] == "c4999"
    with pytest.raises(InvalidInput) as error:
        Framework.build([comp("c0", "c4999"), *chain[1:]])
    assert len(error.value.problems) == 5000


@pytest.mark.parametrize(
    ("value", "ok"),
    [("frac.unit", True), ("a-b_c.1", True), ("Frac", False), ("-a", False), ("", False)],
)
def test_slugs(value: str, ok: bool) -> None:
    assert is_slug(value) is ok
