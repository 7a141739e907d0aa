"""Small CASE packages built in the tests, written from the CASE 1.0 / 1.1 specification's
package layout (CFDocument, CFItems, CFAssociations), with fixed identifiers."""

from __future__ import annotations

import copy
from typing import Any

DOC = "7d3e6f4a-1b2c-4d5e-8f90-a1b2c3d4e5f6"
STAMP = "2024-03-01T10:00:00+00:00"


def uid(n: int) -> str:
    """The n-th item (or association, from 100 on) identifier: a valid RFC 4122 UUID."""
    return f"0000000a-0000-4000-8000-{n:012d}"


def item(n: int, statement: str, code: str | None = None, **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "identifier": uid(n),
        "uri": f"https://case.example.org/ims/case/v1p0/CFItems/{uid(n)}",
        "fullStatement": statement,
        "lastChangeDateTime": STAMP,
    }
    if code is not None:
        entry["humanCodingScheme"] = code
    entry.update(extra)
    return entry


def node(identifier: str, title: str = "") -> dict[str, str]:
    return {
        "title": title,
        "identifier": identifier,
        "uri": f"https://case.example.org/ims/case/v1p0/CFItems/{identifier}",
    }


def association(n: int, kind: str, origin: str, destination: str, **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "identifier": uid(100 + n),
        "associationType": kind,
        "uri": f"https://case.example.org/ims/case/v1p0/CFAssociations/{uid(100 + n)}",
        "originNodeURI": node(origin),
        "destinationNodeURI": node(destination),
        "lastChangeDateTime": STAMP,
    }
    entry.update(extra)
    return entry


def fractions() -> dict[str, Any]:
    """A small framework: a grouping with three standards, two prerequisites, one link.

    1 "Fractions" (NF) is the parent of 2 (NF.1), 3 (NF.2) and 4 (NF.3); 2 precedes 3 and 3
    precedes 4; 4 isRelatedTo an item of another framework.
    """
    return copy.deepcopy(
        {
            "CFDocument": {
                "identifier": DOC,
                "uri": f"https://case.example.org/ims/case/v1p0/CFDocuments/{DOC}",
                "creator": "Example State Board",
                "title": "Example Mathematics Standards",
                "lastChangeDateTime": STAMP,
                "language": "en",
                "description": "A small framework for the tests.",
            },
            "CFItems": [
                item(1, "Fractions", "NF", abbreviatedStatement="Fractions"),
                item(
                    2,
                    "Understand a fraction 1/b as one part of a whole.",
                    "3.NF.1",
                    educationLevel=["03"],
                ),
                item(3, "Explain equivalence of fractions.", "3.NF.2", educationLevel=["03"]),
                item(
                    4,
                    "Compare two fractions with different numerators.",
                    "3.NF.3",
                    educationLevel=["03", "04"],
                ),
            ],
            "CFAssociations": [
                association(1, "isChildOf", uid(1), DOC, sequenceNumber=1),
                association(2, "isChildOf", uid(2), uid(1), sequenceNumber=1),
                association(3, "isChildOf", uid(3), uid(1), sequenceNumber=2),
                association(4, "isChildOf", uid(4), uid(1), sequenceNumber=3),
                association(5, "precedes", uid(2), uid(3)),
                association(6, "precedes", uid(3), uid(4)),
                association(7, "isRelatedTo", uid(4), "9c1f0e2d-3b4a-4c5d-9e6f-7a8b9c0d1e2f"),
            ],
        }
    )
