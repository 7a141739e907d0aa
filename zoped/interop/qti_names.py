"""Names in QTI documents: QTI 3 (``qti-choice-interaction``, ``response-identifier``) and
QTI 2 (``choiceInteraction``, ``responseIdentifier``) read alike, and identifiers as zoped ids.
"""

from __future__ import annotations

import re

from lxml import etree

_SLUG_BAD = re.compile(r"[^a-z0-9._-]+")


def slug(identifier: str) -> str:
    """A QTI identifier as a zoped id: lower case, other characters as ``-``
    (``ChoiceA`` → ``choicea``, ``ITM 1`` → ``itm-1``)."""
    value = _SLUG_BAD.sub("-", identifier.strip().lower())
    return value.lstrip("._-") or "x"


def _camel_to_kebab(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"-\1", name).lower()


def local(element: etree._Element) -> str:
    """An element's name in QTI 3 spelling without ``qti-``: ``choice-interaction`` for both
    ``qti-choice-interaction`` and ``choiceInteraction``; HTML names as they are."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    name: str = etree.QName(tag).localname
    if name.startswith("qti-"):
        return name[4:]
    if any(ch.isupper() for ch in name):
        return _camel_to_kebab(name)
    return name


def attr(element: etree._Element, name: str, default: str = "") -> str:
    """An attribute by its QTI 3 name (``response-identifier``), also found in QTI 2 spelling
    (``responseIdentifier``)."""
    value = element.get(name)
    if value is None:
        camel = re.sub(r"-([a-z])", lambda m: m.group(1).upper(), name)
        value = element.get(camel)
    return default if value is None else value


def children(element: etree._Element, name: str) -> list[etree._Element]:
    """Child elements with this QTI 3 name."""
    return [c for c in element if local(c) == name]
