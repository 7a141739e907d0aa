"""Feedback in QTI items, placed by the conventions of docs/qti.md ("Feedback"): on a choice,
or for a right or a wrong answer; any other is warned about by name."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from zoped.interop.qti_body import ItemReader, body_markdown
from zoped.interop.qti_names import attr, local

#: FEEDBACK outcome values that mean a right answer, and a wrong one (compared in lower case).
CORRECT_FEEDBACK = frozenset({"correct", "true", "right"})
INCORRECT_FEEDBACK = frozenset({"incorrect", "false", "wrong"})
_FEEDBACK = frozenset({"feedback-inline", "feedback-block", "modal-feedback"})


@dataclass(frozen=True)
class Feedback:
    """Feedback read from an item: per option (by zoped id), and for a right or wrong answer."""

    options: dict[str, str]
    correct: str
    incorrect: str


def read_feedback(reader: ItemReader, choices: dict[str, str]) -> Feedback:
    """The item's feedback elements placed by the conventions of docs/qti.md ("Feedback"):
    inside a choice, or with a choice's identifier, it is that option's feedback; with the
    outcome ``FEEDBACK`` and an identifier such as ``correct`` or ``incorrect`` (``show`` or
    ``hide``) it is the item's feedback for a right or wrong answer. Any other is warned about by
    name. ``choices`` maps the choice interaction's identifiers to option ids (empty when the
    item is no choice item)."""
    options: dict[str, list[str]] = {}
    verdict: dict[bool, list[str]] = {True: [], False: []}
    for element in reader.root.iter():
        name = local(element)
        if name not in _FEEDBACK:
            continue
        text = body_markdown(element, {})
        if name == "feedback-inline":
            text = " ".join(text.split())
        if not text:
            continue
        identifier = attr(element, "identifier")
        outcome = attr(element, "outcome-identifier")
        shown = attr(element, "show-hide", "show").strip().lower() != "hide"
        holder = next((a for a in element.iterancestors() if local(a) == "simple-choice"), None)
        if holder is not None and attr(holder, "identifier") in choices and shown:
            options.setdefault(choices[attr(holder, "identifier")], []).append(text)
        elif identifier in choices and shown:
            options.setdefault(choices[identifier], []).append(text)
        elif outcome.upper() == "FEEDBACK" and identifier.lower() in CORRECT_FEEDBACK:
            verdict[shown].append(text)
        elif outcome.upper() == "FEEDBACK" and identifier.lower() in INCORRECT_FEEDBACK:
            verdict[not shown].append(text)
        else:
            reader.warn(
                element,
                f"has {etree.QName(element).localname} {identifier!r} (outcome "
                f"{outcome or 'none'}, {'show' if shown else 'hide'}) that is not kept: zoped "
                "keeps feedback on a choice, and for a right or a wrong answer",
            )
    return Feedback(
        {k: "\n\n".join(v) for k, v in options.items()},
        "\n\n".join(verdict[True]),
        "\n\n".join(verdict[False]),
    )
