"""Hypothesis strategies shared by the test suite: frameworks as DAGs, content, courses, events.

Every strategy builds *valid* domain objects (the constructors would refuse others), so a test
can assume validity and look for the invariant it cares about.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from zoped.domain.content import (
    OPTION_TYPES,
    Activity,
    Blank,
    Criterion,
    Item,
    ItemType,
    Modality,
    Option,
    Rubric,
    RubricLevel,
)
from zoped.domain.course import Course
from zoped.domain.evidence import (
    ACTIVITY_KINDS,
    ANSWER_KINDS,
    EvidenceEvent,
    EvidenceKind,
    EvidenceSource,
)
from zoped.domain.framework import Competency, Framework

_SLUG_HEAD = "abcdefghijklmnopqrstuvwxyz0123456789"
_SLUG_TAIL = _SLUG_HEAD + "._-"

#: Plain printable text without surrounding whitespace (titles, stems, feedback).
texts = (
    st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")),
        min_size=1,
        max_size=30,
    )
    .map(str.strip)
    .filter(bool)
)


@st.composite
def slugs(draw: st.DrawFn, max_size: int = 12) -> str:
    """A valid id: ``[a-z0-9][a-z0-9._-]*``."""
    head = draw(st.sampled_from(_SLUG_HEAD))
    tail = draw(st.text(alphabet=_SLUG_TAIL, max_size=max_size - 1))
    return head + tail


@st.composite
def competency_lists(
    draw: st.DrawFn, min_size: int = 1, max_size: int = 12, shuffle: bool = True
) -> list[Competency]:
    """Competencies forming a valid framework: prerequisites a DAG, parents a forest.

    Each competency may only point to competencies generated before it, which rules out
    cycles; the list is then shuffled so file order differs from topological order.
    """
    ids = draw(st.lists(slugs(), min_size=min_size, max_size=max_size, unique=True))
    comps: list[Competency] = []
    for index, cid in enumerate(ids):
        earlier = ids[:index]
        prereqs = (
            draw(st.lists(st.sampled_from(earlier), unique=True, max_size=3)) if earlier else []
        )
        parent = draw(st.none() | st.sampled_from(earlier)) if earlier else None
        comps.append(
            Competency(
                id=cid,
                title=draw(texts),
                description=draw(st.just("") | texts),
                parent=parent,
                prerequisites=tuple(prereqs),
                standard_code=draw(st.none() | texts),
                grade_band=draw(st.none() | st.sampled_from(["K-2", "3-4", "4-7"])),
            )
        )
    if shuffle:
        comps = draw(st.permutations(comps))
    return list(comps)


def frameworks(min_size: int = 1, max_size: int = 12) -> st.SearchStrategy[Framework]:
    """Valid frameworks (DAG prerequisites, tree parents), in shuffled file order."""
    return competency_lists(min_size=min_size, max_size=max_size).map(Framework.build)


@st.composite
def _options(draw: st.DrawFn, kind: ItemType) -> tuple[Option, ...]:
    ids = draw(st.lists(slugs(max_size=3), min_size=2, max_size=5, unique=True))
    if kind is ItemType.SINGLE_CHOICE:
        right = {draw(st.sampled_from(ids))}
    elif kind is ItemType.MULTIPLE_CHOICE:
        right = set(draw(st.lists(st.sampled_from(ids), min_size=1, unique=True)))
    else:
        right = set()
    return tuple(
        Option(id=oid, text=draw(texts), correct=oid in right, feedback=draw(st.just("") | texts))
        for oid in ids
    )


@st.composite
def _blanks(draw: st.DrawFn) -> tuple[Blank, ...]:
    """Blanks of a blanks item: each chosen (one correct choice) or typed."""
    found = []
    for blank_id in draw(st.lists(slugs(max_size=3), min_size=1, max_size=3, unique=True)):
        if draw(st.booleans()):
            choices = draw(_options(ItemType.SINGLE_CHOICE))
            found.append(Blank(blank_id, choices=choices))
        else:
            found.append(Blank(blank_id, accepted=tuple(draw(st.lists(texts, min_size=1)))))
    return tuple(found)


@st.composite
def items(draw: st.DrawFn, competency_ids: list[str], item_id: str | None = None) -> Item:
    """A valid item of any type, on some of ``competency_ids``."""
    kind = draw(st.sampled_from(list(ItemType)))
    numeric = kind is ItemType.NUMERIC
    options = draw(_options(kind)) if kind in OPTION_TYPES else ()
    targets: tuple[Option, ...] = ()
    blanks: tuple[Blank, ...] = ()
    stem = draw(texts)
    if kind is ItemType.MATCHING:
        # Each option matched with one target; targets no option names are distractors.
        targets = draw(_options(ItemType.ORDERING))
        options = tuple(
            Option(o.id, o.text, feedback=o.feedback, match=draw(st.sampled_from(targets)).id)
            for o in options
        )
    if kind is ItemType.BLANKS:
        blanks = draw(_blanks())
        stem = " ".join([stem.replace("[", "("), *(f"[[{b.id}]]" for b in blanks)])
    return Item(
        id=item_id if item_id is not None else draw(slugs()),
        type=kind,
        stem=stem,
        targets=targets,
        blanks=blanks,
        competencies=tuple(
            draw(st.lists(st.sampled_from(competency_ids), min_size=1, max_size=3, unique=True))
        ),
        options=options,
        answer=draw(st.floats(-1e6, 1e6, allow_nan=False)) if numeric else None,
        tolerance=draw(st.floats(0, 10, allow_nan=False)) if numeric else 0.0,
        accepted=tuple(draw(st.lists(texts, min_size=1, max_size=3)))
        if kind is ItemType.SHORT_TEXT
        else (),
        hints=tuple(draw(st.lists(texts, max_size=2))),
        explanation=draw(st.just("") | texts),
        difficulty=draw(st.none() | st.floats(0, 1)),
        feedback_correct=draw(st.just("") | texts),
        feedback_incorrect=draw(st.just("") | texts),
    )


@st.composite
def rubrics(draw: st.DrawFn, competency_ids: list[str], rubric_id: str | None = None) -> Rubric:
    """A valid rubric whose criteria map to some of ``competency_ids``."""
    criterion_ids = draw(st.lists(slugs(max_size=6), min_size=1, max_size=3, unique=True))
    criteria = []
    for cid in criterion_ids:
        n_levels = draw(st.integers(2, 4))
        start = draw(st.integers(0, 2))
        criteria.append(
            Criterion(
                id=cid,
                title=draw(texts),
                competencies=tuple(
                    draw(st.lists(st.sampled_from(competency_ids), min_size=1, unique=True))
                ),
                levels=tuple(
                    RubricLevel(title=draw(texts), points=float(start + i), description="")
                    for i in range(n_levels)
                ),
            )
        )
    return Rubric(
        id=rubric_id if rubric_id is not None else draw(slugs()),
        title=draw(texts),
        criteria=tuple(criteria),
    )


@st.composite
def activities(
    draw: st.DrawFn,
    competency_ids: list[str],
    rubric_ids: list[str],
    activity_id: str | None = None,
) -> Activity:
    """A valid activity on some of ``competency_ids``, maybe scored by one of ``rubric_ids``."""
    body = draw(st.none() | texts)
    link = draw(st.just("https://example.org/x") if body is None else st.none())
    return Activity(
        id=activity_id if activity_id is not None else draw(slugs()),
        title=draw(texts),
        modality=draw(st.sampled_from(list(Modality))),
        competencies=tuple(
            draw(st.lists(st.sampled_from(competency_ids), min_size=1, max_size=3, unique=True))
        ),
        minutes=draw(st.integers(1, 240)),
        interests=tuple(draw(st.lists(slugs(max_size=8), max_size=3))),
        body=body,
        link=link,
        language=draw(st.none() | st.sampled_from(["en", "fr", "pt-BR"])),
        rubric_id=draw(st.none() | st.sampled_from(rubric_ids)) if rubric_ids else None,
    )


@st.composite
def courses(draw: st.DrawFn, max_competencies: int = 8) -> Course:
    """A valid course with a framework, activities, items and rubrics that all cross-refer."""
    framework = draw(frameworks(max_size=max_competencies))
    cids = list(framework.ids)
    rubric_ids = draw(st.lists(slugs(), max_size=2, unique=True))
    rubric_list = [draw(rubrics(cids, rid)) for rid in rubric_ids]
    activity_ids = draw(st.lists(slugs(), max_size=4, unique=True))
    item_ids = draw(st.lists(slugs(), max_size=6, unique=True))
    return Course(
        id=draw(slugs()),
        title=draw(texts),
        description=draw(st.just("") | texts),
        language=draw(st.sampled_from(["en", "fr", "de-CH"])),
        grade_band=draw(st.none() | st.just("4-7")),
        framework=framework,
        activities=tuple(draw(activities(cids, rubric_ids, aid)) for aid in activity_ids),
        items=tuple(draw(items(cids, iid)) for iid in item_ids),
        rubrics=tuple(rubric_list),
    )


#: Timezone-aware datetimes across several offsets (naive ones are refused by the domain).
aware_datetimes = st.datetimes(
    min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis bounds must be naive
    max_value=datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=9))]),
)

_json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def evidence_events(
    draw: st.DrawFn,
    learner_ids: list[str] | None = None,
    kinds: list[EvidenceKind] | None = None,
) -> EvidenceEvent:
    """A valid evidence event of any kind, with the fields its kind requires."""
    kind = draw(st.sampled_from(kinds or list(EvidenceKind)))
    occurred = draw(aware_datetimes)
    needs_score = kind in (EvidenceKind.RUBRIC_SCORE, EvidenceKind.TEACHER_OVERRIDE)
    override = kind is EvidenceKind.TEACHER_OVERRIDE
    return EvidenceEvent(
        id=uuid.UUID(int=draw(st.integers(0, 2**128 - 1))),
        learner_id=draw(st.sampled_from(learner_ids) if learner_ids else slugs()),
        kind=kind,
        occurred_at=occurred,
        recorded_at=occurred + timedelta(seconds=draw(st.integers(0, 10_000))),
        source=draw(st.sampled_from(list(EvidenceSource))),
        item_id=draw(slugs()) if kind in ANSWER_KINDS else None,
        activity_id=draw(slugs()) if kind in ACTIVITY_KINDS else None,
        competency_ids=tuple(draw(st.lists(slugs(), min_size=1, max_size=3))),
        correct=draw(st.booleans()) if kind in ANSWER_KINDS else None,
        score=draw(st.floats(0, 1)) if needs_score else draw(st.none() | st.floats(0, 1)),
        duration_s=draw(st.none() | st.floats(0, 3600)),
        hints_used=draw(st.integers(0, 3)),
        actor_id=draw(slugs()) if override else None,
        note=draw(texts) if override else "",
        payload=draw(st.dictionaries(st.text(max_size=5), _json_values, max_size=3)),
    )
