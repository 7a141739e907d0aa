"""Reading QTI items: the real examples (tests/qti/fixtures/SOURCE.md) become zoped items, and
what zoped cannot present or score is refused by name, located by file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.qti.helpers import FIXTURES, package
from zoped.domain.content import ItemType
from zoped.domain.grading import grade, right_response
from zoped.errors import InvalidInput
from zoped.interop.qti import QtiItem, read_qti
from zoped.interop.qti_names import slug
from zoped.interop.qti_projects import QtiProject

QTI3 = FIXTURES / "qti3"
QTI2 = FIXTURES / "qti2"


def one(path: Path):
    (found,) = read_qti(path)
    assert isinstance(found, QtiItem)
    return found.item


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        (QTI3 / "choice.xml", ItemType.SINGLE_CHOICE),
        (QTI3 / "text_entry.xml", ItemType.SHORT_TEXT),
        (QTI3 / "order.xml", ItemType.ORDERING),
        (QTI3 / "match.xml", ItemType.MATCHING),
        (QTI3 / "gap_match.xml", ItemType.BLANKS),
        (QTI3 / "inline_choice.xml", ItemType.BLANKS),
        (QTI2 / "associate.xml", ItemType.MATCHING),
        (QTI2 / "choice_multiple.xml", ItemType.MULTIPLE_CHOICE),
    ],
)
def test_each_real_example_reads_to_its_kind_and_its_right_answer_scores(path, kind) -> None:
    item = one(path)
    assert item.type is kind
    assert item.competencies == ()  # tagging is the import's job
    assert grade(item, right_response(item)).correct


def test_choice_keeps_its_body_text_image_alt_and_prompt_as_the_stem() -> None:
    item = one(QTI3 / "choice.xml")
    assert item.id == "choice"
    assert item.stem == (
        "Look at the text in the picture.\n\n[image: NEVER LEAVE LUGGAGE UNATTENDED]\n\n"
        "What does it say?"
    )
    assert [(o.id, o.correct) for o in item.options] == [
        ("choicea", True),
        ("choiceb", False),
        ("choicec", False),
    ]


def test_match_pairs_each_character_with_the_play() -> None:
    item = one(QTI3 / "match.xml")
    assert [(o.text, o.match) for o in item.options] == [
        ("Capulet", "r"),
        ("Demetrius", "m"),
        ("Lysander", "m"),
        ("Prospero", "t"),
    ]
    assert [t.text for t in item.targets] == [
        "A Midsummer-Night's Dream",
        "Romeo and Juliet",
        "The Tempest",
    ]
    half = grade(item, ["r", "m", "t", "m"])
    assert (half.correct, half.score) == (False, 0.5)


def test_associate_pairs_become_left_and_right_and_leftovers_distractors() -> None:
    item = one(QTI2 / "associate.xml")
    assert [(o.text, o.match) for o in item.options] == [
        ("Antonio", "p"),
        ("Capulet", "m"),
        ("Demetrius", "l"),
    ]
    assert [t.text for t in item.targets] == ["Prospero", "Montague", "Lysander"]


def test_gap_match_marks_each_gap_in_the_quote_with_every_gap_text_as_its_choices() -> None:
    item = one(QTI3 / "gap_match.xml")
    assert "Now is the [[g1]] of our discontent\nMade glorious [[g2]] by this sun" in item.stem
    assert [b.id for b in item.blanks] == ["g1", "g2"]
    assert [c.text for c in item.blanks[0].choices] == ["winter", "spring", "summer", "autumn"]
    assert [b.answer for b in item.blanks] == ["winter", "summer"]
    assert grade(item, ["w", "sp"]).score == 0.5


def test_inline_choice_and_text_entry_keep_their_place_in_the_sentence() -> None:
    inline = one(QTI3 / "inline_choice.xml")
    assert "by this sun of [[response]];" in inline.stem
    assert inline.blanks[0].answer == "York"
    typed = one(QTI3 / "text_entry.xml")
    assert "by this sun of ____;" in typed.stem
    assert typed.accepted == ("York", "york")  # the correct response, then the mapped keys


def test_order_lists_the_choices_in_the_right_order() -> None:
    assert [o.text for o in one(QTI3 / "order.xml").options] == [
        "Michael Schumacher",
        "Rubens Barrichello",
        "Jenson Button",
    ]


def refused(tmp_path: Path, name: str, xml: str) -> list[str]:
    path = tmp_path / name
    path.write_text(xml, encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        read_qti(path)
    return [str(p) for p in caught.value.problems]


def test_extended_text_reads_as_a_project_a_teacher_scores() -> None:
    (found,) = read_qti(QTI3 / "extended_text.xml")
    assert isinstance(found, QtiProject)
    assert (found.identifier, found.title, found.max_points) == (
        "ITM-extended_text",
        "Writing a Postcard",
        4,  # its MAXSCORE
    )
    assert found.body.startswith("Read this postcard from your English pen-friend, Sam.")
    assert "- What size is your town?" in found.body
    assert found.body.endswith("Write Sam a postcard. Answer the questions. Write 25-35 words.")


def test_an_extended_text_beside_another_interaction_is_refused(tmp_path: Path) -> None:
    text = '<qti-extended-text-interaction response-identifier="ESSAY"/>'
    xml = ITEM3.format(id="q1", body=f"{CHOICE}\n{text}", processing=MATCH_CORRECT)
    (problem,) = refused(tmp_path, "x.xml", xml)
    assert "has an extended text interaction beside others: not supported" in problem


ITEM3 = """<?xml version="1.0" encoding="UTF-8"?>
<qti-assessment-item xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0" identifier="{id}"
    title="t" adaptive="false" time-dependent="false">
  <qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="identifier">
    <qti-correct-response><qti-value>A</qti-value></qti-correct-response>
  </qti-response-declaration>
  <qti-item-body>
    <p>Pick one.</p>
    {body}
  </qti-item-body>
  {processing}
</qti-assessment-item>
"""
CHOICE = """<qti-choice-interaction response-identifier="RESPONSE" max-choices="1">
      <qti-simple-choice identifier="A">Yes</qti-simple-choice>
      <qti-simple-choice identifier="B">No</qti-simple-choice>
    </qti-choice-interaction>"""
MATCH_CORRECT = (
    '<qti-response-processing template="https://purl.imsglobal.org/spec/qti/v3p0/'
    'rptemplates/match_correct.xml"/>'
)


@pytest.mark.parametrize(
    "uri",
    [
        "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct.xml",
        "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct",
        "http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct",
        "match_correct.xml",
        "rptemplates/match_correct/",
    ],
)
def test_a_template_is_known_by_its_last_path_segment(tmp_path: Path, uri: str) -> None:
    path = tmp_path / "item.xml"
    processing = f'<qti-response-processing template="{uri}"/>'
    path.write_text(ITEM3.format(id="q1", body=CHOICE, processing=processing), encoding="utf-8")
    assert one(path).options[0].correct


def test_custom_response_processing_is_refused_by_name(tmp_path: Path) -> None:
    custom = "<qti-response-processing><qti-response-condition/></qti-response-processing>"
    problems = refused(tmp_path, "c.xml", ITEM3.format(id="Q-7", body=CHOICE, processing=custom))
    assert problems == [
        "c.xml line 14 <qti-response-processing>: item Q-7 uses custom response processing: "
        "not supported"
    ]


@pytest.mark.parametrize(
    "element",
    [
        '<qti-hotspot-interaction response-identifier="RESPONSE" max-choices="1"/>',
        '<qti-slider-interaction response-identifier="RESPONSE" lower-bound="0" upper-bound="9"/>',
        '<qti-graphic-order-interaction response-identifier="RESPONSE"/>',
        '<qti-upload-interaction response-identifier="RESPONSE"/>',
    ],
)
def test_unsupported_interactions_are_named(tmp_path: Path, element: str) -> None:
    xml = ITEM3.format(id="q1", body=f"{CHOICE}\n{element}", processing=MATCH_CORRECT)
    problems = refused(tmp_path, "u.xml", xml)
    name = element.split()[0][1:]
    assert len(problems) == 1
    assert problems[0].startswith(f"u.xml line 13 <{name}>: item q1 uses {name}")


def test_every_problem_of_a_package_is_reported_and_located(tmp_path: Path) -> None:
    good = ITEM3.format(id="q1", body=CHOICE, processing=MATCH_CORRECT)
    bad = ITEM3.format(id="q2", body="<p>nothing to answer</p>", processing=MATCH_CORRECT)
    path = tmp_path / "p.zip"
    path.write_bytes(package({"a.xml": good, "b.xml": bad, "c.xml": "<qti-assessment-item>"}))
    with pytest.raises(InvalidInput) as caught:
        read_qti(path)
    problems = [str(p) for p in caught.value.problems]
    located = "p.zip: b.xml line 7 <qti-item-body>: item q2 has no interaction"
    assert located in problems
    assert any(p.startswith("p.zip: c.xml line 1:") for p in problems)


def test_two_items_with_one_id_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.zip"
    first = ITEM3.format(id="Q1", body=CHOICE, processing=MATCH_CORRECT)
    path.write_bytes(package({"a.xml": first, "b.xml": first.replace('"Q1"', '"q1"')}))
    with pytest.raises(InvalidInput, match="not imported") as caught:
        read_qti(path)
    assert "same id (q1)" in str(caught.value.problems[0])


def test_a_qti_2_item_reads_like_its_qti_3_twin(tmp_path: Path) -> None:
    path = tmp_path / "two.xml"
    path.write_text(
        """<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1" identifier="q1"
        title="t" adaptive="false" timeDependent="false">
  <responseDeclaration identifier="RESPONSE" cardinality="single" baseType="identifier">
    <correctResponse><value>A</value></correctResponse>
  </responseDeclaration>
  <itemBody><p>Pick one.</p>
    <choiceInteraction responseIdentifier="RESPONSE" maxChoices="1">
      <simpleChoice identifier="A">Yes</simpleChoice><simpleChoice identifier="B">No</simpleChoice>
    </choiceInteraction></itemBody>
  <responseProcessing template="http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct"/>
</assessmentItem>""",
        encoding="utf-8",
    )
    three = tmp_path / "three.xml"
    three.write_text(ITEM3.format(id="q1", body=CHOICE, processing=MATCH_CORRECT), "utf-8")
    assert one(path) == one(three)


@pytest.mark.parametrize(
    ("identifier", "expected"),
    [("ChoiceA", "choicea"), ("ITM-text_entry", "itm-text_entry"), ("_x 1", "x-1")],
)
def test_identifiers_become_ids(identifier: str, expected: str) -> None:
    assert slug(identifier) == expected


@pytest.mark.parametrize(
    ("name", "old", "new", "where", "message"),
    [
        (
            "qti3/choice.xml",
            "<qti-value>ChoiceA</qti-value>",
            "<qti-value>ChoiceZ</qti-value>",
            "line 7 <qti-assessment-item>",
            "exactly one correct option, not 0",
        ),
        (
            "qti3/match.xml",
            "</qti-simple-match-set>\n\t\t\t<qti-simple-match-set>",
            "",
            "line 20 <qti-match-interaction>",
            "has a match interaction without two simple match sets",
        ),
        (
            "qti3/gap_match.xml",
            "<qti-value>W G1</qti-value>",
            "<qti-value>W G9</qti-value>",
            "line 23 <qti-gap>",
            "has gap 'G1' with no right text",
        ),
        (
            "qti3/inline_choice.xml",
            'response-identifier="RESPONSE"',
            'response-identifier="ANSWER"',
            "line 14 <qti-inline-choice-interaction>",
            "has no response declaration 'ANSWER'",
        ),
        (
            "qti3/order.xml",
            "<qti-value>DriverB</qti-value>",
            "",
            "line 13 <qti-order-interaction>",
            "has a correct order that does not list every choice exactly once",
        ),
        (
            "qti2/associate.xml",
            "<value>A P</value>",
            "<value>A Q</value>",
            "line 20 <associateInteraction>",
            "has the pair A Q: each choice may be in one right pair",
        ),
        (
            "qti2/choice_multiple.xml",
            "rptemplates/map_response.xml",
            "rptemplates/map_response_point.xml",
            "line 27 <responseProcessing>",
            "uses the response processing template 'map_response_point': not supported",
        ),
    ],
)
def test_a_broken_copy_of_each_real_example_is_refused_at_its_line(
    tmp_path: Path, name: str, old: str, new: str, where: str, message: str
) -> None:
    text = (FIXTURES / name).read_text("utf-8")
    assert old in text
    problems = refused(tmp_path, Path(name).name, text.replace(old, new, 1))
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{Path(name).name} {where}: item ")
    assert message in problems[0]
