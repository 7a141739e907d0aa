"""Shared bits of the QTI tests: the fixtures folder, a small course and a school database."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from pathlib import Path

from tests.factories import T0
from zoped.domain import School
from zoped.interop.course_file import parse_course
from zoped.services.courses import import_course
from zoped.services.roster import create_school
from zoped.services.system import open_database

FIXTURES = Path(__file__).parent / "fixtures"

#: A course for Shakespeare and sport items: the fixtures are tagged to these competencies.
LIT_COURSE = {
    "format": "zoped-course",
    "version": 1,
    "course": {"id": "lit", "title": "Literature"},
    "competencies": [
        {"id": "lit.quotes", "title": "Famous quotes", "standard_code": "ELA.Q.1"},
        {"id": "lit.plays", "title": "Plays and characters"},
        {"id": "general", "title": "General knowledge"},
    ],
    "activities": [],
    "items": [
        {
            "id": "warmup",
            "type": "short_text",
            "stem": "Who wrote Hamlet?",
            "competencies": ["lit.plays"],
            "accepted": ["Shakespeare"],
        }
    ],
    "rubrics": [],
}

#: Which competency each fixture item assesses (item identifier, competency id).
MAPPING = """item,competency
choice,general
match,lit.plays
gapMatch,lit.quotes
inlineChoice,lit.quotes
ITM-text_entry,lit.quotes
order,general
associate,lit.plays
choiceMultiple,general
ITM-extended_text,general
"""


def school_database(tmp_path: Path) -> str:
    """A SQLite database with school ``hill`` holding the course ``lit``."""
    url = f"sqlite:///{tmp_path / 'school.db'}"
    database = open_database(url)
    try:
        with database.session() as session:
            create_school(session, school=School("hill", "Hill School"), now=T0)
            import_course(session, course=parse_course(LIT_COURSE), now=T0, school_id="hill")
    finally:
        database.dispose()
    return url


def package(files: Mapping[str, bytes | str], *, manifest: str | None = None) -> bytes:
    """A content package (zip bytes) of ``files``, with a manifest listing each ``.xml`` file
    as a QTI 3 item unless ``manifest`` is given."""
    if manifest is None:
        resources = "".join(
            f'<resource identifier="r{i}" type="imsqti_item_xmlv3p0" href="{name}">'
            f'<file href="{name}"/></resource>'
            for i, name in enumerate(files)
            if name.endswith(".xml")
        )
        manifest = (
            '<manifest xmlns="http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1" '
            f'identifier="m"><organizations/><resources>{resources}</resources></manifest>'
        )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("imsmanifest.xml", manifest)
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def fixture_package() -> bytes:
    """Every real fixture (QTI 3 and 2.x) in one package, with the pictures they show."""
    files = {
        f"{folder}/{p.name}": p.read_bytes()
        for folder in ("qti3", "qti2")
        for p in sorted((FIXTURES / folder).glob("*.xml"))
    }
    resources = "".join(
        f'<resource identifier="r{i}" '
        f'type="{"imsqti_item_xmlv2p1" if name.startswith("qti2") else "imsqti_item_xmlv3p0"}" '
        f'href="{name}"><file href="{name}"/></resource>'
        for i, name in enumerate(files)
    )
    manifest = (
        '<manifest xmlns="http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1" '
        f'identifier="m"><organizations/><resources>{resources}</resources></manifest>'
    )
    pictures = {f"img/{p.name}": p.read_bytes() for p in sorted((FIXTURES / "img").glob("*"))}
    return package({**files, **pictures}, manifest=manifest)
