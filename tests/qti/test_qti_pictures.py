"""QTI items keep their pictures (docs/qti.md, "Pictures"): an ``img`` (or an image ``object``)
in an item body inside a content package is kept with the course and shown in the stem as
``![alt](/media/SHA256.EXT)``; a picture missing from the package, SVG or not an image is
refused at its element and nothing is written; the export writes the pictures back; an item
file read alone keeps the alt text, with a warning."""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests import factories as f
from tests.conftest import DEMO_NOW
from tests.factories import T0
from tests.qti.helpers import FIXTURES, package, school_database
from tests.qti.test_qti_import import course_items
from tests.security.conftest import csrf_of, make_client, sign_in
from tests.security.test_course_pages import _hash, _signed_in
from zoped.domain import Role, School
from zoped.domain.media import MAX_IMAGE_BYTES
from zoped.errors import InvalidInput
from zoped.interop.qti import QtiItem, read_qti
from zoped.interop.qti_projects import QtiProject
from zoped.interop.qti_write import write_package
from zoped.services.courses import get_course
from zoped.services.qti_import import export_qti, import_qti
from zoped.services.roster import create_school, create_user
from zoped.services.system import Database, open_database
from zoped.store.tables import course_media
from zoped.web.markdown import render_inline, render_markdown

CHOICE = (FIXTURES / "qti3" / "choice.xml").read_bytes()
EXTENDED = (FIXTURES / "qti3" / "extended_text.xml").read_bytes()
SIGN = (FIXTURES / "img" / "sign.png").read_bytes()
POSTCARD = (FIXTURES / "img" / "postcard.png").read_bytes()
SIGN_NAME = f"{hashlib.sha256(SIGN).hexdigest()}.png"
POSTCARD_NAME = f"{hashlib.sha256(POSTCARD).hexdigest()}.png"
MAPPING = "item,competency\nchoice,general\nITM-extended_text,general\n"
GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00"
    b"\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


def _zip(tmp_path: Path, files: dict[str, bytes], name: str = "pictures.zip") -> Path:
    archive = tmp_path / name
    archive.write_bytes(package(files))
    return archive


def _mapping(tmp_path: Path) -> Path:
    path = tmp_path / "map.csv"
    path.write_text(MAPPING, encoding="utf-8")
    return path


def _import(url: str, source: Path, mapping: Path):
    database = open_database(url, migrate=False)
    try:
        with database.session() as session:
            return import_qti(session, source=source, course_code="lit", now=T0, mapping=mapping)
    finally:
        database.dispose()


def _media_rows(url: str) -> int:
    database = open_database(url, migrate=False)
    try:
        with database.session() as session:
            return session.scalar(select(func.count()).select_from(course_media)) or 0
    finally:
        database.dispose()


def test_a_picture_in_a_package_is_kept_and_shown_in_the_stem(tmp_path: Path) -> None:
    archive = _zip(
        tmp_path,
        {
            "items/choice.xml": CHOICE,
            "items/extended_text.xml": EXTENDED,
            "img/sign.png": SIGN,
            "img/postcard.png": POSTCARD,
        },
    )
    choice, project = read_qti(archive)
    assert isinstance(choice, QtiItem)
    assert choice.item.stem == (
        "Look at the text in the picture.\n\n"
        f"![NEVER LEAVE LUGGAGE UNATTENDED](/media/{SIGN_NAME})\n\n"
        "What does it say?"
    )
    assert [(m.name, m.content_type, m.content) for m in choice.media] == [
        (SIGN_NAME, "image/png", SIGN)
    ]
    assert choice.warnings == ()
    assert isinstance(project, QtiProject)
    assert f"![postcard](/media/{POSTCARD_NAME})" in project.body
    assert [m.name for m in project.media] == [POSTCARD_NAME]


def test_an_item_file_read_alone_keeps_the_alt_text_with_a_warning() -> None:
    (found,) = read_qti(FIXTURES / "qti3" / "choice.xml")
    assert isinstance(found, QtiItem)
    assert "[image: NEVER LEAVE LUGGAGE UNATTENDED]" in found.item.stem
    assert found.media == ()
    (warning,) = found.warnings
    assert warning.startswith("choice.xml line 21 <img>: item choice shows the image ")
    assert "read without its package: kept as its alt text" in warning


def test_an_image_object_is_a_picture_too(tmp_path: Path) -> None:
    item = CHOICE.replace(
        b'<img src="../img/sign.png" alt="NEVER LEAVE LUGGAGE UNATTENDED" />',
        b'<object type="image/gif" data="../img/dot.gif">A dot'
        # The object's fallback, and a rubric block, are not shown: their pictures not read.
        b'<img src="../img/fallback.png" alt=""/></object>'
        b'<qti-rubric-block view="scorer"><p><img src="../img/key.png" alt="key"/></p>'
        b"</qti-rubric-block>",
    )
    (found,) = read_qti(_zip(tmp_path, {"items/choice.xml": item, "img/dot.gif": GIF}))
    assert isinstance(found, QtiItem)
    name = f"{hashlib.sha256(GIF).hexdigest()}.gif"
    assert f"![A dot](/media/{name})" in found.item.stem
    assert [m.content_type for m in found.media] == ["image/gif"]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({}, "shows the image '../img/sign.png', which is not in the package"),
        (
            {"img/sign.png": b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>'},
            "which is an SVG image: not accepted (an SVG file can carry script)",
        ),
        ({"img/sign.png": b"just text"}, "which is not a PNG, JPEG or GIF image"),
        (
            {"img/sign.png": SIGN + b"\0" * MAX_IMAGE_BYTES},
            f"which is larger than {MAX_IMAGE_BYTES:,} bytes",
        ),
    ],
)
def test_a_broken_picture_is_refused_at_its_line_and_nothing_is_written(
    tmp_path: Path, files: dict[str, bytes], message: str
) -> None:
    url = school_database(tmp_path)
    archive = _zip(tmp_path, {"items/choice.xml": CHOICE, **files})
    before = course_items(url)
    with pytest.raises(InvalidInput) as error:
        _import(url, archive, _mapping(tmp_path))
    (problem,) = error.value.problems
    assert problem.location == "pictures.zip: items/choice.xml line 21 <img>"
    assert message in problem.message
    assert course_items(url) == before
    assert _media_rows(url) == 0


def test_an_svg_file_is_refused_by_name_whatever_it_holds(tmp_path: Path) -> None:
    item = CHOICE.replace(b"../img/sign.png", b"../img/sign.svg")
    with pytest.raises(InvalidInput) as error:
        read_qti(_zip(tmp_path, {"items/choice.xml": item, "img/sign.svg": SIGN}))
    assert "is an SVG image: not accepted" in error.value.problems[0].message


def test_a_web_picture_is_refused_with_the_way_out(tmp_path: Path) -> None:
    item = CHOICE.replace(b"../img/sign.png", b"https://example.org/sign.png")
    with pytest.raises(InvalidInput) as error:
        read_qti(_zip(tmp_path, {"items/choice.xml": item}))
    assert "which is a web address: put the file in the package" in str(error.value.problems)


def test_pictures_import_once_reimport_unchanged_and_export_back(tmp_path: Path) -> None:
    url = school_database(tmp_path)
    archive = _zip(
        tmp_path,
        {
            "items/choice.xml": CHOICE,
            "items/extended_text.xml": EXTENDED,
            "img/sign.png": SIGN,
            "img/postcard.png": POSTCARD,
        },
    )
    mapping = _mapping(tmp_path)
    first = _import(url, archive, mapping)
    assert first.added == ("choice", "itm-extended_text")
    assert _media_rows(url) == 2
    again = _import(url, archive, mapping)
    assert (again.added, again.updated, again.unchanged) == ((), (), 2)
    assert _media_rows(url) == 2
    database = open_database(url, migrate=False)
    try:
        with database.session() as session:
            data = export_qti(session, course_code="lit", now=T0)
            course = get_course(session, course_id="lit")
    finally:
        database.dispose()
    out = tmp_path / "out.zip"
    out.write_bytes(data)
    with zipfile.ZipFile(out) as exported:
        assert exported.read(f"media/{SIGN_NAME}") == SIGN
        assert exported.read(f"media/{POSTCARD_NAME}") == POSTCARD
        choice_xml = exported.read("items/choice.xml")
    assert f'<img src="../media/{SIGN_NAME}" alt="NEVER LEAVE LUGGAGE UNATTENDED"/>'.encode() in (
        choice_xml
    )
    back = {f.identifier: f for f in read_qti(out)}
    assert isinstance(back["choice"], QtiItem)
    assert back["choice"].item == dataclasses.replace(course.item("choice"), competencies=())
    assert _import(url, out, mapping).changed is False
    assert _media_rows(url) == 2
    # Without its pictures the course cannot be exported, and says which item shows which.
    with pytest.raises(InvalidInput, match="shows the image"):
        write_package(dataclasses.replace(course, id="lit"))


def test_both_renderers_show_course_pictures_and_no_other_image() -> None:
    shown = str(render_inline(f"Look: ![a sign](/media/{SIGN_NAME})"))
    assert shown == f'Look: <img src="/media/{SIGN_NAME}" alt="a sign">'
    for other in (
        "![x](https://example.org/x.png)",
        "![x](/media/../secret.png)",
        f"![x](/media/{SIGN_NAME}?a=1)",
        "![x](javascript:alert(1))",
    ):
        assert "src=" not in str(render_inline(other)), other
        assert "src=" not in str(render_markdown(other)), other
    assert f'src="/media/{SIGN_NAME}"' in str(render_markdown(f"![a sign](/media/{SIGN_NAME})"))


def test_a_learner_sees_the_picture_and_another_schools_learner_gets_404(
    fresh_db: Database,
) -> None:
    teacher = make_client(fresh_db)
    sign_in(teacher, "rivera")
    page = "/teacher/courses/import-qti"
    archive = package({"items/choice.xml": CHOICE, "img/sign.png": SIGN})
    uploaded = teacher.post(
        page,
        data={"csrf_token": csrf_of(teacher, page), "course": "fractions-ratios"},
        files={
            "qti_file": ("pictures.zip", archive, "application/zip"),
            "mapping_file": ("map.csv", b"choice,found.equal-parts\n", "text/csv"),
        },
    )
    assert uploaded.status_code == 200, uploaded.text
    assert "1 added" in uploaded.text
    amara = make_client(fresh_db)
    sign_in(amara, "amara")
    practice = amara.get(f"/learner/practice/found.equal-parts?item=choice&event={uuid.uuid4()}")
    assert practice.status_code == 200, practice.text
    assert f'<img src="/media/{SIGN_NAME}" alt="NEVER LEAVE LUGGAGE UNATTENDED">' in practice.text
    picture = amara.get(f"/media/{SIGN_NAME}")
    assert picture.status_code == 200
    assert picture.content == SIGN
    assert picture.headers["content-type"] == "image/png"
    assert picture.headers["x-content-type-options"] == "nosniff"
    assert teacher.get(f"/media/{SIGN_NAME}").status_code == 200
    assert amara.get(f"/media/{'0' * 64}.png").status_code == 404
    assert amara.get("/media/..%2Fsecret.png").status_code == 404
    guardian = make_client(fresh_db)
    sign_in(guardian, "guardian.amara")
    assert guardian.get(f"/media/{SIGN_NAME}").status_code == 404
    with fresh_db.session() as session:
        create_school(session, school=School("hill", "Hill School"), now=DEMO_NOW)
        learner = f.user(Role.LEARNER, id="hill-learner", school_id="hill", username="hl")
        create_user(session, user=learner, password_hash=_hash("hill-password"), now=DEMO_NOW)
    hill = _signed_in(fresh_db, "hill", "hl", "hill-password")
    assert hill.get(f"/media/{SIGN_NAME}").status_code == 404
    assert make_client(fresh_db).get(f"/media/{SIGN_NAME}").status_code in (303, 401)
