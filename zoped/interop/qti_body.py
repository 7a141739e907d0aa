"""The body of a QTI item read as zoped text: the reader that collects an item's problems and
warnings, and the item body as Markdown-ish text (docs/qti.md, "What becomes what"). Shared by
the item reader (:mod:`zoped.interop.qti`), its feedback (:mod:`zoped.interop.qti_feedback`) and
its pictures (:mod:`zoped.interop.qti_media`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from zoped.domain.media import CourseMedia
from zoped.errors import Problem
from zoped.interop.qti_names import local

#: Elements of an item body that are not content: feedback, templates and the like.
SKIPPED = frozenset(
    {
        "feedback-block",
        "feedback-inline",
        "rubric-block",
        "template-block",
        "template-inline",
        "printed-variable",
        "object",
        "script",
        "style",
    }
)
BLOCKS = frozenset(
    {
        "p",
        "div",
        "blockquote",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "ul",
        "ol",
        "li",
        "table",
        "tr",
        "pre",
        "prompt",
        "item-body",
        "section",
        "figure",
        "dl",
        "dd",
        "dt",
        "hr",
        "content-body",
    }
)
BREAK = "\x00"  # a <br/> while a paragraph is gathered (source line ends are spaces)


@dataclass
class ItemReader:
    """Reads one item document, collecting problems."""

    source: str
    root: etree._Element
    identifier: str = ""
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    images: dict[etree._Element, str] = field(default_factory=dict)
    media: list[CourseMedia] = field(default_factory=list)

    def where(self, element: etree._Element) -> str:
        return f"{self.source} line {element.sourceline} <{etree.QName(element).localname}>"

    def problem(self, element: etree._Element, message: str) -> None:
        self.problems.append(Problem(self.where(element), f"item {self.identifier} {message}"))

    def warn(self, element: etree._Element, message: str) -> None:
        self.warnings.append(f"{self.where(element)}: item {self.identifier} {message}")


def inline_text(element: etree._Element) -> str:
    """Text of an option or prompt on one line: formatting kept as Markdown, images as their
    alt text."""
    return " ".join(body_markdown(element, {}).split())


def body_markdown(element: etree._Element, replace: dict[etree._Element, str]) -> str:
    """An element's content as Markdown-ish text: blocks become paragraphs, ``br`` a line
    break, strong/emphasis ``**``/``*``, images their alt text; an element that is a key of
    ``replace`` becomes that text; interactions not in it (and feedback) are left out."""
    paragraphs: list[str] = []
    current: list[str] = []

    def flush() -> None:
        text = "".join(current)
        lines = [" ".join(part.split()) for part in text.split(BREAK)]
        joined = "\n".join(line for line in lines if line)
        if joined:
            paragraphs.append(joined)
        current.clear()

    def walk(node: etree._Element, top: bool) -> None:
        name = local(node)
        if node in replace:
            text = replace[node]
            if text.startswith("\n\n"):  # a block interaction: its own paragraphs
                flush()
                paragraphs.extend(p.strip() for p in text.split("\n\n") if p.strip())
            else:
                current.append(text)
            return
        skipped = name in SKIPPED or name.endswith("-interaction") or name.startswith("modal-")
        if skipped and not top:
            return
        if not top and name in ("img",):
            alt = node.get("alt") or ""
            current.append(f"[image: {alt}]" if alt else "[image]")
            return
        if name == "br":
            current.append(BREAK)
        block = name in BLOCKS and not top
        if block:
            flush()
        if name == "li":
            current.append("- ")
        mark = {"strong": "**", "b": "**", "em": "*", "i": "*"}.get(name, "")
        inner: list[str] = []
        if mark:
            # A mark is only written around text that is not empty.
            start = len(current)
            if node.text:
                current.append(node.text)
            for child in node:
                walk(child, False)
                if child.tail:
                    current.append(child.tail)
            inner = current[start:]
            del current[start:]
            text = "".join(inner)
            if text.strip():
                lead = text[: len(text) - len(text.lstrip())]
                trail = text[len(text.rstrip()) :]
                current.append(f"{lead}{mark}{text.strip()}{mark}{trail}")
            return
        if node.text:
            current.append(node.text)
        for child in node:
            walk(child, False)
            if child.tail:
                current.append(child.tail)
        if block:
            flush()

    walk(element, True)
    flush()
    return "\n\n".join(paragraphs)
