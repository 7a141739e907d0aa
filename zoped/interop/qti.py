"""QTI 3.0 and 2.1/2.2 assessment items read into zoped items (see docs/qti.md).

:func:`read_qti` takes one item XML file or a content package (a zip with ``imsmanifest.xml``)
and returns :class:`QtiItem` values: a zoped :class:`~zoped.domain.content.Item` (without
competencies yet) and the competency references its metadata carries; an extended-text item
(teacher scored) is a :class:`QtiProject`, which the import makes a project activity with a
rubric. Tagging items to a
course's competencies happens in :mod:`zoped.services.qti_import`.

QTI 3 (``qti-choice-interaction``, ``response-identifier``) and QTI 2 (``choiceInteraction``,
``responseIdentifier``) are read by one reader: every element and attribute name is brought to
its QTI 3 spelling without the ``qti-`` prefix first (``choice-interaction``).

What maps to what:

- choice: ``single_choice`` (cardinality single) or ``multiple_choice``;
- order: ``ordering``;
- match and associate: ``matching`` (an associate pair's first choice is the left-hand side);
- gap match, inline choice, and several text entries: ``blanks``;
- one text entry: ``numeric`` (base type float or integer) or ``short_text``;
- extended text: a project activity, scored by a teacher with a rubric of one criterion.

Feedback is kept by the conventions of docs/qti.md ("Feedback"): inside a choice, or named by a
choice's identifier, it is that option's; modal feedback on the outcome ``FEEDBACK`` with
``correct``/``incorrect`` (and the like) is the item's; any other is a warning. Pictures in an
item body inside a package are read from it and shown as ``![alt](/media/NAME)`` (docs/qti.md,
"Pictures"); an item file read alone keeps ``[image: alt]``, with a warning.

Every problem is collected and reported at once, located as ``FILE line N <element>``:
custom response processing (refused by name), interactions zoped has no kind for (named),
answers it cannot represent.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from zoped.domain.content import Blank, Item, ItemType, Option
from zoped.domain.media import MAX_IMAGES, CourseMedia
from zoped.errors import InvalidInput, Problem
from zoped.interop.qti_body import SKIPPED, ItemReader, body_markdown, inline_text
from zoped.interop.qti_feedback import read_feedback
from zoped.interop.qti_files import (
    MAX_XML_BYTES,
    Files,
    Package,
    PackageFile,
    parse_xml,
    resolve_href,
)
from zoped.interop.qti_media import read_pictures
from zoped.interop.qti_metadata import Extras, classifications, read_extras, references
from zoped.interop.qti_names import attr, children, local, slug
from zoped.interop.qti_projects import QtiProject, max_points
from zoped.interop.qti_responses import (
    declaration_for,
    declarations,
    pairs_of,
    response_template,
    right_values,
)

QTI3_NS = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0"
QTI2_NS = (
    "http://www.imsglobal.org/xsd/imsqti_v2p0",
    "http://www.imsglobal.org/xsd/imsqti_v2p1",
    "http://www.imsglobal.org/xsd/imsqti_v2p2",
)
#: The interactions zoped reads, by QTI 3 name without the ``qti-`` prefix.
SUPPORTED = frozenset(
    {
        "choice-interaction",
        "order-interaction",
        "match-interaction",
        "associate-interaction",
        "gap-match-interaction",
        "inline-choice-interaction",
        "text-entry-interaction",
        "extended-text-interaction",
    }
)
_INLINE = frozenset({"inline-choice-interaction", "text-entry-interaction"})


@dataclass(frozen=True)
class QtiItem:
    """One item read from QTI.

    Attributes:
        identifier: the QTI identifier (the zoped id is its :func:`slug`).
        source: the file it came from, for messages.
        line: the line of its root element.
        item: the item, with no competencies yet.
        references: the standards the package's metadata says it assesses (competency ids,
            standard codes or CASE GUIDs), in order.
        classifications: the package's LOM classification values for it (which tag it only
            where they name a competency).
        warnings: what was read but not kept (feedback zoped cannot place, pictures read
            without their package), located.
        media: the pictures its stem shows (``![alt](/media/NAME)``), read from the package.
    """

    identifier: str
    source: str
    line: int
    item: Item
    references: tuple[str, ...] = ()
    classifications: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    media: tuple[CourseMedia, ...] = ()


#: What reading a QTI file gives: items, and extended-text items (projects).
QtiRead = QtiItem | QtiProject


def _interactions(body: etree._Element) -> Iterator[etree._Element]:
    for element in body.iter():
        name = local(element)
        if name.endswith("-interaction") or name == "custom-interaction":
            yield element


def _option(element: etree._Element) -> Option:
    text = inline_text(element) or attr(element, "identifier")
    return Option(id=slug(attr(element, "identifier")), text=text)


def _block_alone(interaction: etree._Element) -> bool:
    """Whether an inline interaction sits alone in its paragraph (no other text beside it)."""
    parent = interaction.getparent()
    if parent is None:
        return True
    others = "".join(
        "".join(c.itertext()) + (c.tail or "") if c is not interaction else (c.tail or "")
        for c in parent
    )
    return not ((parent.text or "") + others).strip()


def _read_item(reader: ItemReader, extras: Extras) -> Item | QtiProject | None:
    root = reader.root
    reader.identifier = attr(root, "identifier") or "?"
    if not attr(root, "identifier"):
        reader.problem(root, "has no identifier")
    decls = declarations(reader)
    template = response_template(reader)
    bodies = children(root, "item-body")
    if not bodies:
        reader.problem(root, "has no item body")
        return None
    body = bodies[0]
    interactions = list(_interactions(body))
    unsupported = [i for i in interactions if local(i) not in SUPPORTED]
    for element in unsupported:
        reader.problem(
            element,
            f"uses {etree.QName(element).localname}, which zoped cannot present or score: "
            "not supported",
        )
    if not interactions:
        reader.problem(body, "has no interaction")
    if unsupported or not interactions:
        return None
    names = {local(i) for i in interactions}
    if names == {"extended-text-interaction"} and len(interactions) == 1:
        # Scored by a teacher: response processing, if any, is not zoped's to run.
        if template == "custom":
            return None
        body_text = _stem(body, interactions, dict(reader.images))
        title = " ".join(attr(root, "title").split()) or " ".join(body_text.split())[:60]
        return QtiProject(
            reader.identifier, reader.source, root.sourceline or 1, title or reader.identifier,
            body_text or title, max_points(root),
        )  # fmt: skip
    if "extended-text-interaction" in names:
        reader.problem(
            interactions[0],
            "has an extended text interaction beside others: not supported (an extended text "
            "item has that one interaction)",
        )
        return None
    if template is None:
        reader.problem(
            root, "has no response processing (zoped scores by match_correct or map_response)"
        )
        return None
    if template == "custom":
        return None
    title = attr(root, "title")
    kind: ItemType
    replace: dict[etree._Element, str] = dict(reader.images)
    options: list[Option] = []
    targets: list[Option] = []
    blanks: list[Blank] = []
    answer: float | None = None
    accepted: list[str] = []
    if names <= _INLINE and not (len(interactions) == 1 and names == {"text-entry-interaction"}):
        kind = ItemType.BLANKS
        for interaction in interactions:
            decl = declaration_for(reader, decls, interaction)
            blank_id = slug(attr(interaction, "response-identifier"))
            replace[interaction] = f"[[{blank_id}]]"
            if decl is None:
                continue
            right = right_values(decl, template)
            if local(interaction) == "inline-choice-interaction":
                choices = [
                    Option(
                        id=slug(attr(c, "identifier")),
                        text=inline_text(c) or attr(c, "identifier"),
                        correct=attr(c, "identifier") in right[:1],
                    )
                    for c in children(interaction, "inline-choice")
                ]
                blanks.append(Blank(blank_id, choices=tuple(choices)))
            else:
                typed = dict.fromkeys([*right, *decl.positive_keys()])
                blanks.append(Blank(blank_id, accepted=tuple(typed)))
    elif len(interactions) > 1:
        reader.problem(
            interactions[1],
            "has several interactions of which some are not inline ones: not supported "
            "(zoped items have one interaction, or blanks)",
        )
        return None
    else:
        interaction = interactions[0]
        name = local(interaction)
        decl = declaration_for(reader, decls, interaction)
        if decl is None:
            return None
        right = right_values(decl, template)
        if not right:
            reader.problem(interaction, "has no correct response")
            return None
        if name == "text-entry-interaction":
            if not _block_alone(interaction):
                replace[interaction] = "____"
            if decl.base_type in ("float", "integer"):
                kind = ItemType.NUMERIC
                try:
                    answer = float(right[0])
                except ValueError:
                    reader.problem(
                        interaction, f"has the correct response {right[0]!r}, which is no number"
                    )
                    return None
            else:
                kind = ItemType.SHORT_TEXT
                accepted = list(dict.fromkeys([*right, *decl.positive_keys()]))
        elif name == "choice-interaction":
            multiple = decl.cardinality != "single"
            kind = ItemType.MULTIPLE_CHOICE if multiple else ItemType.SINGLE_CHOICE
            chosen = set(right) if multiple else set(right[:1])
            options = [
                Option(
                    id=slug(attr(c, "identifier")),
                    text=inline_text(c) or attr(c, "identifier"),
                    correct=attr(c, "identifier") in chosen,
                )
                for c in children(interaction, "simple-choice")
            ]
        elif name == "order-interaction":
            kind = ItemType.ORDERING
            by_id = {attr(c, "identifier"): c for c in children(interaction, "simple-choice")}
            if sorted(right) != sorted(by_id):
                reader.problem(
                    interaction, "has a correct order that does not list every choice exactly once"
                )
                return None
            options = [_option(by_id[r]) for r in right]
        elif name == "match-interaction":
            kind = ItemType.MATCHING
            sets = children(interaction, "simple-match-set")
            if len(sets) != 2:
                reader.problem(interaction, "has a match interaction without two simple match sets")
                return None
            pairs = dict(pairs_of(reader, interaction, right))
            if len(pairs) != len(right):
                reader.problem(
                    interaction,
                    "has a left-hand choice with several right matches: not supported "
                    "(zoped matches each left-hand choice with one target)",
                )
                return None
            for choice in children(sets[0], "simple-associable-choice"):
                identifier = attr(choice, "identifier")
                if identifier not in pairs:
                    reader.problem(
                        choice,
                        f"has left-hand choice {identifier!r} with no right match: not supported "
                        "(zoped matches every left-hand choice)",
                    )
                options.append(
                    Option(
                        id=slug(identifier),
                        text=inline_text(choice) or identifier,
                        match=slug(pairs.get(identifier, "")),
                    )
                )
            targets = [_option(c) for c in children(sets[1], "simple-associable-choice")]
        elif name == "associate-interaction":
            kind = ItemType.MATCHING
            by_id = {
                attr(c, "identifier"): c for c in children(interaction, "simple-associable-choice")
            }
            used: set[str] = set()
            for left, right_id in pairs_of(reader, interaction, right):
                if {left, right_id} & used or not {left, right_id} <= by_id.keys():
                    reader.problem(
                        interaction,
                        f"has the pair {left} {right_id}: each choice may be in one right pair, "
                        "and both must be choices of the interaction",
                    )
                    continue
                used |= {left, right_id}
                option = _option(by_id[left])
                options.append(Option(option.id, option.text, match=slug(right_id)))
                targets.append(_option(by_id[right_id]))
            targets += [_option(c) for i, c in by_id.items() if i not in used]
        else:  # gap-match-interaction
            kind = ItemType.BLANKS
            texts = [c for c in interaction if local(c) in ("gap-text", "gap-img")]
            for text in texts:
                if local(text) == "gap-img":
                    reader.problem(text, "uses a gap image: not supported")
            gap_for = {gap: text for text, gap in pairs_of(reader, interaction, right)}
            for gap in (g for g in interaction.iter() if local(g) == "gap"):
                gap_id = attr(gap, "identifier")
                replace[gap] = f"[[{slug(gap_id)}]]"
                if gap_id not in gap_for:
                    reader.problem(gap, f"has gap {gap_id!r} with no right text")
                gap_choices = tuple(
                    Option(
                        id=slug(attr(t, "identifier")),
                        text=inline_text(t) or attr(t, "identifier"),
                        correct=attr(t, "identifier") == gap_for.get(gap_id),
                    )
                    for t in texts
                )
                blanks.append(Blank(slug(gap_id), choices=gap_choices))
            # The gaps and their text stand in the stem; the gap texts are the blanks' choices.
            for text in texts:
                replace[text] = ""
            replace.pop(interaction, None)
    stem = _stem(body, interactions, replace) or title
    choice_ids: dict[str, str] = {}
    if kind in (ItemType.SINGLE_CHOICE, ItemType.MULTIPLE_CHOICE):
        for choice in children(interactions[0], "simple-choice"):
            choice_ids[attr(choice, "identifier")] = slug(attr(choice, "identifier"))
    found = read_feedback(reader, choice_ids)
    # zoped's own metadata (written by zoped export qti, Markdown kept) wins over the QTI text.
    feedback = {**found.options, **dict(extras.option_feedback)}
    if feedback:
        options = [
            Option(o.id, o.text, o.correct, feedback.get(o.id, ""), o.match) for o in options
        ]
    item = Item(
        id=slug(reader.identifier),
        type=kind,
        stem=stem,
        competencies=(),
        options=tuple(options),
        answer=answer,
        tolerance=extras.tolerance if kind is ItemType.NUMERIC else 0.0,
        accepted=tuple(accepted),
        hints=extras.hints,
        explanation=extras.explanation,
        difficulty=extras.difficulty,
        feedback_correct=extras.feedback_correct or found.correct,
        feedback_incorrect=extras.feedback_incorrect or found.incorrect,
        targets=tuple(targets),
        blanks=tuple(blanks),
    )
    if reader.problems:  # the item's own checks would only repeat them
        return None
    for problem in item.problems():
        if problem.location == "competencies":
            continue
        reader.problem(root, f"is not a valid zoped item: {problem.location} {problem.message}")
    return item


def _stem(
    body: etree._Element, interactions: list[etree._Element], replace: dict[etree._Element, str]
) -> str:
    """The item body as the stem: the body's text and each block interaction's prompt, with
    inline interactions (and gaps) replaced as ``replace`` says."""
    for interaction in interactions:
        if interaction in replace:
            continue
        # A block interaction stands for its prompt (and, for gap match, its gapped text).
        prompt = [c for c in interaction if local(c) == "prompt"]
        content = [c for c in interaction if local(c) != "prompt"]
        parts = [body_markdown(p, replace) for p in prompt]
        if local(interaction) == "gap-match-interaction":
            parts += [
                body_markdown(c, replace)
                for c in content
                if local(c) not in ("gap-text", "gap-img", *SKIPPED) and c not in replace
            ]
        replace[interaction] = "\n\n" + "\n\n".join(p for p in parts if p) + "\n\n"
    text = body_markdown(body, replace)
    return "\n\n".join(part.strip() for part in text.split("\n\n") if part.strip())


def read_item_xml(
    data: bytes,
    source: str,
    *,
    metadata: etree._Element | None = None,
    problems: list[Problem],
    package: Files | None = None,
    path: str = "",
) -> QtiItem | QtiProject | None:
    """One item document; its problems are added to ``problems`` (None when unreadable).
    ``package`` is the content package it is read from, at ``path`` in it (its pictures are
    read from there)."""
    try:
        root = parse_xml(data, source)
    except InvalidInput as error:
        problems += error.problems
        return None
    namespace = etree.QName(root).namespace or ""
    name = etree.QName(root).localname
    if (namespace, name) not in ((QTI3_NS, "qti-assessment-item"),) and not (
        namespace in QTI2_NS and name == "assessmentItem"
    ):
        problems.append(
            Problem(
                f"{source} line {root.sourceline} <{name}>",
                "not a QTI 3.0 qti-assessment-item or QTI 2.x assessmentItem "
                f"(namespace {namespace or 'none'})",
            )
        )
        return None
    try:
        extras = read_extras(metadata, source)
    except InvalidInput as error:
        problems += error.problems
        extras = Extras()
    reader = ItemReader(source, root)
    reader.identifier = attr(root, "identifier") or "?"
    read_pictures(reader, package, path)
    item = _read_item(reader, extras)
    problems += reader.problems
    if item is None or reader.problems:
        return None
    tags = references(metadata), classifications(metadata)
    if isinstance(item, QtiProject):
        return dataclasses.replace(
            item,
            references=tags[0],
            classifications=tags[1],
            warnings=tuple(reader.warnings),
            media=tuple(reader.media),
        )
    return QtiItem(
        reader.identifier,
        source,
        root.sourceline or 1,
        item,
        *tags,
        tuple(reader.warnings),
        tuple(reader.media),
    )


_ITEM_TYPES = ("imsqti_item_xmlv3p0", "imsqti_item_xmlv2p2", "imsqti_item_xmlv2p1", "imsqti_item")


def _read_package(path: Path, problems: list[Problem]) -> list[QtiRead]:
    package = Package(path)
    manifest_file = package.xml("imsmanifest.xml")
    assert manifest_file is not None  # Package checked it
    manifest = parse_xml(manifest_file.data, f"{path.name}: imsmanifest.xml")
    found: list[QtiRead] = []
    resources = [e for e in manifest.iter() if local(e) == "resource"]
    for resource in resources:
        kind = resource.get("type") or ""
        if not kind.startswith(_ITEM_TYPES):
            continue
        href = resource.get("href") or ""
        where = f"{path.name}: imsmanifest.xml line {resource.sourceline} <resource>"
        target = resolve_href("imsmanifest.xml", href)
        file: PackageFile | None = package.xml(target) if target else None
        if file is None:
            problems.append(Problem(where, f"the item file {href!r} is not in the package"))
            continue
        metadata = next((c for c in resource if local(c) == "metadata"), None)
        item = read_item_xml(
            file.data,
            f"{path.name}: {file.name}",
            metadata=metadata,
            problems=problems,
            package=package,
            path=file.name,
        )
        if item is not None:
            found.append(item)
    if not any((r.get("type") or "").startswith(_ITEM_TYPES) for r in resources):
        problems.append(
            Problem(f"{path.name}: imsmanifest.xml", "the manifest lists no QTI item resource")
        )
    return found


def read_qti(path: Path) -> list[QtiRead]:
    """The items of a QTI item file or content package, checked; nothing is written.

    Raises:
        InvalidInput: every problem found (unreadable, unsafe or oversized files, custom
            response processing, unsupported interactions, answers zoped cannot represent,
            duplicate identifiers), each located as ``FILE line N <element>``.
    """
    problems: list[Problem] = []
    try:
        with path.open("rb") as file:
            head = file.read(4)
    except OSError as error:
        raise InvalidInput(f"{path}: cannot read it", [Problem(str(path), str(error))]) from None
    if head.startswith(b"PK"):
        items = _read_package(path, problems)
    else:
        with path.open("rb") as file:
            data = file.read(MAX_XML_BYTES + 1)  # parse_xml refuses more than the cap
        one = read_item_xml(data, path.name, problems=problems)
        items = [one] if one is not None else []
    # Items and projects (activities) have ids of their own: each kind is checked on its own.
    first: dict[tuple[bool, str], QtiRead] = {}
    for found in items:
        other = first.setdefault((isinstance(found, QtiItem), slug(found.identifier)), found)
        if other is not found:
            problems.append(
                Problem(
                    f"{found.source} line {found.line}",
                    f"item {found.identifier} has the same id ({slug(found.identifier)}) as item "
                    f"{other.identifier} in {other.source}",
                )
            )
    pictures = {m.name for found in items for m in found.media}
    if len(pictures) > MAX_IMAGES:
        problems.append(
            Problem(path.name, f"shows {len(pictures)} images; at most {MAX_IMAGES} allowed")
        )
    if problems:
        raise InvalidInput(f"{path.name}: not imported", problems)
    return items
