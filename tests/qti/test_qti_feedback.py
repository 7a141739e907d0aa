"""QTI feedback kept (docs/qti.md, "Feedback"): inline feedback in a choice and feedback named
by a choice's identifier become that option's feedback, modal feedback under the FEEDBACK
conventions the item's feedback for a right or a wrong answer, any other is a warning; the
export writes them back as QTI feedback, and reading that back gives the same items."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tests.factories import T0
from tests.qti.helpers import FIXTURES, package, school_database
from tests.qti.test_qti_import import course_items
from zoped.domain.grading import grade
from zoped.errors import InvalidInput, Problem
from zoped.interop.qti import QtiItem, read_item_xml, read_qti
from zoped.interop.qti_write import item_xml, write_package
from zoped.services.courses import get_course
from zoped.services.qti_import import import_qti
from zoped.services.system import open_database

FEEDBACK = FIXTURES / "feedback"
MAPPING = "item,competency\nfeedbackInline,general\nmodalFeedback,general\n"


def read_one(path: Path) -> QtiItem:
    (found,) = read_qti(path)
    assert isinstance(found, QtiItem)
    return found


def test_inline_feedback_in_each_choice_and_modal_feedback_named_by_a_choice_are_kept() -> None:
    found = read_one(FEEDBACK / "feedback_inline.xml")
    item = found.item
    assert [(o.id, o.text, o.feedback) for o in item.options] == [
        ("mgh001a", "George W Bush", "No, he is the President of the USA."),
        ("mgh001b", "Tony Blair", "No, he is the Prime Minister of England."),
        ("mgh001c", "Vicente Fox", "Yes."),
        ("mgh001d", "Ariel Sharon", "No, he is the Prime Minister of Israel."),
    ]
    assert found.warnings == ()
    assert grade(item, "mgh001b").feedback.startswith("No, he is the Prime Minister of England.")


def test_modal_feedback_under_the_feedback_conventions_is_kept_and_any_other_named() -> None:
    found = read_one(FEEDBACK / "modal_feedback.xml")
    item = found.item
    assert item.feedback_correct == "Yes: **never** leave it.\n\nWell read."
    # identifier "correct" with show-hide "hide" is shown when the answer is not right.
    assert item.feedback_incorrect == "Read the sign again."
    assert [o.feedback for o in item.options] == ["", "", ""]
    (warning,) = found.warnings
    assert warning.startswith("modal_feedback.xml line 29 <qti-modal-feedback>: ")
    assert "'hint1' (outcome HINTS, show) that is not kept" in warning
    assert grade(item, "choiceb").feedback.startswith("Read the sign again.")


@pytest.mark.parametrize(
    ("identifier", "show", "field"),
    [
        ("correct", "show", "feedback_correct"),
        ("CORRECT", "show", "feedback_correct"),
        ("true", "show", "feedback_correct"),
        ("incorrect", "show", "feedback_incorrect"),
        ("INCORRECT", "show", "feedback_incorrect"),
        ("false", "show", "feedback_incorrect"),
        ("incorrect", "hide", "feedback_correct"),
    ],
)
def test_each_feedback_convention(identifier: str, show: str, field: str) -> None:
    source = (FEEDBACK / "modal_feedback.xml").read_text(encoding="utf-8")
    start = source.index("\t<qti-modal-feedback")
    end = source.index("</qti-assessment-item>")
    modal = (
        f'<qti-modal-feedback outcome-identifier="FEEDBACK" identifier="{identifier}" '
        f'show-hide="{show}"><qti-content-body><p>Said.</p></qti-content-body>'
        "</qti-modal-feedback>"
    )
    problems: list[Problem] = []
    found = read_item_xml(
        (source[:start] + modal + source[end:]).encode(), "x.xml", problems=problems
    )
    assert problems == []
    assert isinstance(found, QtiItem)
    assert getattr(found.item, field) == "Said."
    assert found.warnings == ()


def test_a_feedback_element_on_another_outcome_or_value_is_a_warning_not_dropped() -> None:
    source = (FEEDBACK / "feedback_inline.xml").read_text(encoding="utf-8")
    changed = source.replace('identifier="MGH001D" showHide="show"', 'identifier="PARTIAL"')
    problems: list[Problem] = []
    found = read_item_xml(changed.encode(), "x.xml", problems=problems)
    assert isinstance(found, QtiItem)
    assert found.item.options[3].feedback == ""
    (warning,) = found.warnings
    assert warning.startswith("x.xml line 28 <modalFeedback>: item feedbackInline has ")
    assert "'PARTIAL' (outcome FEEDBACK, show)" in warning


def test_export_writes_feedback_as_qti_and_the_item_alone_reads_back_the_same() -> None:
    for name in ("feedback_inline.xml", "modal_feedback.xml"):
        item = read_one(FEEDBACK / name).item
        data = item_xml(item)
        if item.options[0].feedback:
            assert (
                b'<qti-feedback-inline outcome-identifier="FEEDBACK" identifier="mgh001a"' in data
            )
        else:
            assert b'<qti-modal-feedback outcome-identifier="FEEDBACK" identifier="correct"' in data
        assert b'<qti-outcome-declaration identifier="FEEDBACK"' in data
        problems: list[Problem] = []
        back = read_item_xml(data, "back.xml", problems=problems)  # no zoped metadata
        assert problems == []
        assert isinstance(back, QtiItem)
        assert back.item == item
        assert back.warnings == ()


def _import(url: str, source: Path, mapping: Path):
    database = open_database(url, migrate=False)
    try:
        with database.session() as session:
            return import_qti(session, source=source, course_code="lit", now=T0, mapping=mapping)
    finally:
        database.dispose()


def test_feedback_imports_once_reimports_unchanged_and_round_trips(tmp_path: Path) -> None:
    url = school_database(tmp_path)
    archive = tmp_path / "feedback.zip"
    archive.write_bytes(
        package({f"items/{p.name}": p.read_bytes() for p in sorted(FEEDBACK.glob("*.xml"))})
    )
    mapping = tmp_path / "map.csv"
    mapping.write_text(MAPPING, encoding="utf-8")
    first = _import(url, archive, mapping)
    assert first.added == ("feedbackinline", "modalfeedback")
    assert any("'hint1' (outcome HINTS, show) that is not kept" in w for w in first.warnings)
    items = {i.id: i for i in course_items(url)}
    assert items["feedbackinline"].options[2].feedback == "Yes."
    assert items["modalfeedback"].feedback_incorrect == "Read the sign again."
    again = _import(url, archive, mapping)
    assert (again.added, again.updated, again.unchanged) == ((), (), 2)
    database = open_database(url, migrate=False)
    try:
        with database.session() as session:
            course = get_course(session, course_id="lit")
    finally:
        database.dispose()
    out = tmp_path / "out.zip"
    out.write_bytes(write_package(dataclasses.replace(course, id="lit")))
    back = {f.item.id: f.item for f in read_qti(out) if isinstance(f, QtiItem)}
    assert back["feedbackinline"] == dataclasses.replace(items["feedbackinline"], competencies=())
    assert back["modalfeedback"] == dataclasses.replace(items["modalfeedback"], competencies=())
    assert _import(url, out, mapping).changed is False


def test_a_broken_feedback_copy_is_refused_at_its_line_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    url = school_database(tmp_path)
    source = (FEEDBACK / "feedback_inline.xml").read_text(encoding="utf-8")
    broken = tmp_path / "broken.xml"
    broken.write_text(source.replace("Yes.</feedbackInline>", "Yes.</feedback>"), "utf-8")
    mapping = tmp_path / "map.csv"
    mapping.write_text(MAPPING, encoding="utf-8")
    before = course_items(url)
    with pytest.raises(InvalidInput) as error:
        _import(url, broken, mapping)
    (problem,) = error.value.problems
    assert problem.location == "broken.xml line 22"
    assert course_items(url) == before
