"""A course's items written as a QTI 3.0 content package (``zoped export qti``).

Each item becomes ``items/ID.xml`` (a ``qti-assessment-item``) listed in ``imsmanifest.xml``.
The manifest carries, per item, the competencies it assesses as 1EdTech Curriculum Standards
Metadata (one GUID per competency id) and what QTI has no place for (hints, the explanation,
feedback, difficulty, a numeric tolerance) in zoped's own metadata element
(:data:`~zoped.interop.qti_metadata.ZOPED_NS`). Reading the package back with
:func:`zoped.interop.qti.read_qti` gives the same items (docs/qti.md says what does not travel).
Projects that came from extended-text items are written back as such (``projects/ID.xml``).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Mapping, Sequence

from lxml import etree

from zoped.domain.content import BLANK_MARKER, Activity, Item, ItemType, Rubric
from zoped.domain.course import Course
from zoped.domain.media import MEDIA_IMAGE
from zoped.errors import InvalidInput, Problem
from zoped.interop.qti import QTI3_NS, read_item_xml
from zoped.interop.qti_files import MemoryFiles
from zoped.interop.qti_metadata import CSM_NS, ZOPED_NS
from zoped.interop.qti_projects import QtiProject, project_of

CP_NS = "http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1"
_TEMPLATES = "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/"
#: Zip entries carry this time, so the same course always gives the same bytes.
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)
#: Where a single text entry goes in a stem that marks its place.
_GAP = "____"


def _q(name: str) -> str:
    return f"{{{QTI3_NS}}}{name}"


def _sub(
    parent: etree._Element, name: str, text: str | None = None, **attrs: str
) -> etree._Element:
    element = etree.SubElement(parent, _q(name), {k.replace("_", "-"): v for k, v in attrs.items()})
    if text is not None:
        element.text = text
    return element


def _declare(
    root: etree._Element,
    identifier: str,
    cardinality: str,
    base_type: str,
    correct: Iterable[str],
    mapping: Iterable[str] = (),
) -> None:
    decl = _sub(
        root,
        "qti-response-declaration",
        identifier=identifier,
        cardinality=cardinality,
        base_type=base_type,
    )
    block = _sub(decl, "qti-correct-response")
    for value in correct:
        _sub(block, "qti-value", value)
    keys = list(mapping)
    if keys:
        table = _sub(decl, "qti-mapping", default_value="0")
        for key in keys:
            _sub(table, "qti-map-entry", map_key=key, mapped_value="1")


def _append_text(paragraph: etree._Element, last: etree._Element | None, piece: str) -> None:
    if last is None:
        paragraph.text = (paragraph.text or "") + piece
    else:
        last.tail = (last.tail or "") + piece


def _paragraphs(
    body: etree._Element,
    text: str,
    inline: dict[str, etree._Element] | None = None,
) -> None:
    """The stem as paragraphs (blank lines part them, a line end is ``<br/>``); ``inline``
    puts an element where its marker (``[[id]]`` or ``____``) stands, and a course picture's
    Markdown image (``![alt](/media/NAME)``) is an ``img`` of the package's ``media/NAME``."""
    for chunk in text.split("\n\n"):
        paragraph = _sub(body, "p")
        paragraph.text = ""
        last: etree._Element | None = None
        for index, line in enumerate(chunk.split("\n")):
            if index:
                last = etree.SubElement(paragraph, _q("br"))
            markers: list[tuple[int, int, str]] = []
            if inline and _GAP in inline:
                if _GAP in line:
                    start = line.index(_GAP)
                    markers = [(start, start + len(_GAP), _GAP)]
            elif inline:
                markers = [(m.start(), m.end(), m.group(1)) for m in BLANK_MARKER.finditer(line)]
            placed = [(a, b, inline[k]) for a, b, k in markers if inline and k in inline]
            for picture in MEDIA_IMAGE.finditer(line):
                img = etree.Element(
                    _q("img"), src=f"../media/{picture.group(2)}", alt=picture.group(1)
                )
                placed.append((picture.start(), picture.end(), img))
            position = 0
            for start, end, element in sorted(placed, key=lambda p: p[0]):
                if start < position:
                    continue
                _append_text(paragraph, last, line[position:start])
                last = element
                paragraph.append(last)
                position = end
            _append_text(paragraph, last, line[position:])


def item_xml(item: Item) -> bytes:
    """One item as a QTI 3.0 ``qti-assessment-item`` document."""
    root = etree.Element(
        _q("qti-assessment-item"),
        {
            "identifier": item.id,
            "title": " ".join(item.stem.split())[:80],
            "adaptive": "false",
            "time-dependent": "false",
        },
        nsmap={None: QTI3_NS},
    )
    template = "match_correct"
    kind = item.type
    interaction: etree._Element | None = None
    inline: dict[str, etree._Element] = {}
    if kind in (ItemType.SINGLE_CHOICE, ItemType.MULTIPLE_CHOICE):
        single = kind is ItemType.SINGLE_CHOICE
        _declare(
            root,
            "RESPONSE",
            "single" if single else "multiple",
            "identifier",
            [o.id for o in item.options if o.correct],
        )
        interaction = etree.Element(
            _q("qti-choice-interaction"),
            {
                "response-identifier": "RESPONSE",
                "shuffle": "false",
                "max-choices": "1" if single else "0",
            },
        )
        for option in item.options:
            choice = _sub(interaction, "qti-simple-choice", option.text, identifier=option.id)
            if option.feedback:
                # Shown when FEEDBACK holds this choice's identifier (docs/qti.md, "Feedback").
                _sub(choice, "qti-feedback-inline", option.feedback, outcome_identifier="FEEDBACK",
                     identifier=option.id, show_hide="show")  # fmt: skip
    elif kind is ItemType.ORDERING:
        _declare(root, "RESPONSE", "ordered", "identifier", [o.id for o in item.options])
        interaction = etree.Element(
            _q("qti-order-interaction"), {"response-identifier": "RESPONSE", "shuffle": "true"}
        )
        for option in item.options:
            _sub(interaction, "qti-simple-choice", option.text, identifier=option.id)
    elif kind is ItemType.MATCHING:
        _declare(
            root,
            "RESPONSE",
            "multiple",
            "directedPair",
            [f"{o.id} {o.match}" for o in item.options],
        )
        interaction = etree.Element(
            _q("qti-match-interaction"),
            {
                "response-identifier": "RESPONSE",
                "shuffle": "false",
                "max-associations": str(len(item.options)),
            },
        )
        for side, max_matches in ((item.options, "1"), (item.targets, str(len(item.options)))):
            match_set = _sub(interaction, "qti-simple-match-set")
            for option in side:
                _sub(
                    match_set,
                    "qti-simple-associable-choice",
                    option.text,
                    identifier=option.id,
                    match_max=max_matches,
                )
    elif kind is ItemType.NUMERIC:
        assert item.answer is not None  # a valid numeric item has one
        _declare(root, "RESPONSE", "single", "float", [repr(item.answer)])
        interaction = etree.Element(
            _q("qti-text-entry-interaction"), {"response-identifier": "RESPONSE"}
        )
    elif kind is ItemType.SHORT_TEXT:
        template = "map_response"
        _declare(root, "RESPONSE", "single", "string", item.accepted[:1], item.accepted)
        interaction = etree.Element(
            _q("qti-text-entry-interaction"), {"response-identifier": "RESPONSE"}
        )
    else:  # ItemType.BLANKS
        for blank in item.blanks:
            if blank.choices:
                _declare(
                    root,
                    blank.id,
                    "single",
                    "identifier",
                    [c.id for c in blank.choices if c.correct],
                )
                element = etree.Element(
                    _q("qti-inline-choice-interaction"),
                    {"response-identifier": blank.id, "shuffle": "false"},
                )
                for choice in blank.choices:
                    _sub(element, "qti-inline-choice", choice.text, identifier=choice.id)
            else:
                mapping = blank.accepted if len(blank.accepted) > 1 else ()
                _declare(root, blank.id, "single", "string", blank.accepted[:1], mapping)
                element = etree.Element(
                    _q("qti-text-entry-interaction"), {"response-identifier": blank.id}
                )
            inline[blank.id] = element
    score = _sub(
        root, "qti-outcome-declaration", identifier="SCORE", cardinality="single", base_type="float"
    )
    default = _sub(score, "qti-default-value")
    _sub(default, "qti-value", "0")
    modal = [("correct", item.feedback_correct), ("incorrect", item.feedback_incorrect)]
    is_choice = kind in (ItemType.SINGLE_CHOICE, ItemType.MULTIPLE_CHOICE)
    choice_feedback = is_choice and any(o.feedback for o in item.options)
    if choice_feedback or any(text for _, text in modal):
        _sub(root, "qti-outcome-declaration", identifier="FEEDBACK", cardinality="single",
             base_type="identifier")  # fmt: skip
    body = _sub(root, "qti-item-body")
    text_entry = kind in (ItemType.NUMERIC, ItemType.SHORT_TEXT)
    if text_entry and interaction is not None and item.stem.count(_GAP) == 1:
        _paragraphs(body, item.stem, {_GAP: interaction})
    else:
        _paragraphs(body, item.stem, inline or None)
        if interaction is not None:
            # A text entry stands in a paragraph of its own; other interactions are blocks.
            holder = _sub(body, "p") if text_entry else body
            holder.append(interaction)
    _sub(root, "qti-response-processing", template=f"{_TEMPLATES}{template}.xml")
    for identifier, text in modal:
        if text:
            feedback = _sub(root, "qti-modal-feedback", outcome_identifier="FEEDBACK",
                            identifier=identifier, show_hide="show")  # fmt: skip
            _paragraphs(_sub(feedback, "qti-content-body"), text)
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return data


def _metadata(resource: etree._Element, item: Item, titles: dict[str, str]) -> None:
    metadata = _standards(resource, item.competencies, titles)
    _extras(metadata, item)


def _standards(
    resource: etree._Element, competencies: Sequence[str], titles: dict[str, str]
) -> etree._Element:
    """The resource's metadata, naming the competencies as Curriculum Standards GUIDs."""
    metadata = etree.SubElement(resource, f"{{{CP_NS}}}metadata")
    standards = etree.SubElement(
        metadata, f"{{{CSM_NS}}}curriculumStandardsMetadataSet", nsmap={"csm": CSM_NS}
    )
    set_of = etree.SubElement(
        etree.SubElement(standards, f"{{{CSM_NS}}}curriculumStandardsMetadata", providerId="zoped"),
        f"{{{CSM_NS}}}setOfGUIDs",
    )
    for competency in competencies:
        labelled = etree.SubElement(set_of, f"{{{CSM_NS}}}labelledGUID")
        etree.SubElement(labelled, f"{{{CSM_NS}}}label").text = titles.get(competency, competency)
        etree.SubElement(labelled, f"{{{CSM_NS}}}GUID").text = competency
    return metadata


def _extras(metadata: etree._Element, item: Item) -> None:
    """What QTI has no place for, in zoped's own metadata element."""
    extras = etree.SubElement(metadata, f"{{{ZOPED_NS}}}item", nsmap={"zoped": ZOPED_NS})

    def add(name: str, text: str, **attrs: str) -> None:
        etree.SubElement(extras, f"{{{ZOPED_NS}}}{name}", attrs).text = text

    for hint in item.hints:
        add("hint", hint)
    if item.explanation:
        add("explanation", item.explanation)
    if item.difficulty is not None:
        add("difficulty", repr(item.difficulty))
    if item.feedback_correct:
        add("feedback-correct", item.feedback_correct)
    if item.feedback_incorrect:
        add("feedback-incorrect", item.feedback_incorrect)
    if item.tolerance:
        add("tolerance", repr(item.tolerance))
    for option in item.options:
        if option.feedback:
            add("option-feedback", option.feedback, option=option.id)


def project_xml(activity: Activity, rubric: Rubric) -> bytes:
    """A project made from an extended-text item, written back as one: its text, then the
    extended text interaction; ``MAXSCORE`` is its rubric's top points (scored by a person)."""
    root = etree.Element(
        _q("qti-assessment-item"),
        {
            "identifier": activity.id,
            "title": activity.title,
            "adaptive": "false",
            "time-dependent": "false",
        },
        nsmap={None: QTI3_NS},
    )
    _sub(root, "qti-response-declaration", identifier="RESPONSE", cardinality="single",
         base_type="string")  # fmt: skip
    _sub(root, "qti-outcome-declaration", identifier="SCORE", cardinality="single",
         base_type="float")  # fmt: skip
    top = _sub(root, "qti-outcome-declaration", identifier="MAXSCORE", cardinality="single",
               base_type="float", external_scored="human")  # fmt: skip
    _sub(_sub(top, "qti-default-value"), "qti-value", f"{rubric.criteria[0].max_points:g}")
    body = _sub(root, "qti-item-body")
    _paragraphs(body, activity.body or activity.title)
    _sub(body, "qti-extended-text-interaction", response_identifier="RESPONSE")
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return data


def _pictures(text: str | None) -> list[str]:
    """The names of the course pictures a stem or body shows, in order, each once."""
    return list(dict.fromkeys(m.group(2) for m in MEDIA_IMAGE.finditer(text or "")))


def qti_projects(
    course: Course, media: Mapping[str, bytes] | None = None
) -> list[tuple[Activity, bytes]]:
    """The course's projects that were extended-text items, each with its item document: those
    whose rubric is the one an extended-text item gets and whose document reads back to the
    same activity and rubric (others are no QTI item, and are not exported)."""
    found: list[tuple[Activity, bytes]] = []
    for activity in course.activities:
        if activity.rubric_id is None or activity.body is None:
            continue
        rubric = course.rubric(activity.rubric_id)
        if len(rubric.criteria) != 1:
            continue
        try:
            data = project_xml(activity, rubric)
        except ValueError:  # text XML cannot carry: not one to export
            continue
        problems: list[Problem] = []
        files = MemoryFiles({f"media/{n}": d for n, d in (media or {}).items()})
        back = read_item_xml(
            data, activity.id, problems=problems, package=files, path=f"projects/{activity.id}.xml"
        )
        if isinstance(back, QtiProject) and project_of(back, activity.competencies) == (
            activity,
            rubric,
        ):
            found.append((activity, data))
    return found


def manifest_xml(course: Course, projects: Sequence[Activity] = ()) -> bytes:
    """The package's ``imsmanifest.xml``: one resource per item (and per project written as an
    extended-text item), with its metadata."""
    root = etree.Element(
        f"{{{CP_NS}}}manifest", {"identifier": f"zoped-{course.id}"}, nsmap={None: CP_NS}
    )
    metadata = etree.SubElement(root, f"{{{CP_NS}}}metadata")
    etree.SubElement(metadata, f"{{{CP_NS}}}schema").text = "QTI Package"
    etree.SubElement(metadata, f"{{{CP_NS}}}schemaversion").text = "3.0.0"
    etree.SubElement(root, f"{{{CP_NS}}}organizations")
    resources = etree.SubElement(root, f"{{{CP_NS}}}resources")
    titles = {c.id: c.title for c in course.framework.competencies}
    for item in course.items:
        href = f"items/{item.id}.xml"
        resource = etree.SubElement(
            resources,
            f"{{{CP_NS}}}resource",
            {"identifier": item.id, "type": "imsqti_item_xmlv3p0", "href": href},
        )
        _metadata(resource, item, titles)
        etree.SubElement(resource, f"{{{CP_NS}}}file", href=href)
        for name in _pictures(item.stem):
            etree.SubElement(resource, f"{{{CP_NS}}}file", href=f"media/{name}")
    for activity in projects:
        href = f"projects/{activity.id}.xml"
        resource = etree.SubElement(
            resources,
            f"{{{CP_NS}}}resource",
            {"identifier": f"project-{activity.id}", "type": "imsqti_item_xmlv3p0", "href": href},
        )
        _standards(resource, activity.competencies, titles)
        etree.SubElement(resource, f"{{{CP_NS}}}file", href=href)
        for name in _pictures(activity.body):
            etree.SubElement(resource, f"{{{CP_NS}}}file", href=f"media/{name}")
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return data


def write_package(course: Course, media: Mapping[str, bytes] | None = None) -> bytes:
    """The course's items as a QTI 3.0 content package (zip bytes), the same bytes every time;
    ``media`` holds the course's pictures by name, written as ``media/NAME`` where an item or
    project shows them.

    Raises:
        InvalidInput: an item holds text XML cannot carry (a control character), or shows a
            picture the course does not hold, named.
    """
    media = media or {}
    problems: list[Problem] = []
    documents: dict[str, bytes] = {}
    for item in course.items:
        try:
            documents[f"items/{item.id}.xml"] = item_xml(item)
        except ValueError as error:  # lxml refuses control characters and NUL bytes
            problems.append(Problem(f"item {item.id}", f"cannot be written as XML: {error}"))
    projects = qti_projects(course, media)
    documents.update({f"projects/{a.id}.xml": data for a, data in projects})
    shown = [(f"item {i.id}", _pictures(i.stem)) for i in course.items]
    shown += [(f"activity {a.id}", _pictures(a.body)) for a, _ in projects]
    for owner, names in shown:
        for name in names:
            if name in media:
                documents[f"media/{name}"] = media[name]
            else:
                problems.append(Problem(owner, f"shows the image {name}, which the course lacks"))
    try:
        manifest = manifest_xml(course, [a for a, _ in projects])
    except ValueError as error:
        problems.append(Problem("imsmanifest.xml", f"cannot be written as XML: {error}"))
    if problems:
        raise InvalidInput(f"course {course.id!r} cannot be exported as QTI", problems)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in [("imsmanifest.xml", manifest), *documents.items()]:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()
