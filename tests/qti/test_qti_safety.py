"""The QTI reader's limits: no DTD or entity expansion, no network, zip bombs, too many entries
and member names that climb out of the package are refused before anything is imported."""

from __future__ import annotations

import dataclasses
import io
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from tests.qti.helpers import LIT_COURSE, package
from zoped.errors import InvalidInput
from zoped.interop import qti_files
from zoped.interop.course_file import parse_course
from zoped.interop.qti import read_qti
from zoped.interop.qti_write import write_package


def refused(path: Path) -> str:
    with pytest.raises(InvalidInput) as caught:
        read_qti(path)
    return " | ".join([caught.value.message, *(str(p) for p in caught.value.problems)])


def test_entity_expansion_is_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.xml"
    bomb.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>\n'
        '<qti-assessment-item xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0" '
        'identifier="x">&lol2;</qti-assessment-item>',
        encoding="utf-8",
    )
    assert "a DOCTYPE (DTD) is not accepted" in refused(bomb)


def test_an_external_entity_is_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET", encoding="utf-8")
    item = tmp_path / "xxe.xml"
    item.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY s SYSTEM "file://{secret}">]>\n'
        '<qti-assessment-item xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0" '
        'identifier="x"><qti-item-body><p>&s;</p></qti-item-body></qti-assessment-item>',
        encoding="utf-8",
    )
    message = refused(item)
    assert "DOCTYPE" in message
    assert "TOP SECRET" not in message


def test_a_parser_never_resolves_entities_or_uses_the_network() -> None:
    parser = qti_files.xml_parser()
    root = etree.fromstring(
        b'<!DOCTYPE x [<!ENTITY e SYSTEM "http://127.0.0.1:9/x">]><x>&e;</x>', parser
    )
    assert "".join(root.itertext()) == "&e;"  # the reference stays as it is, unread


@pytest.mark.parametrize("name", ["../evil.xml", "/etc/evil.xml", "a/../../evil.xml", "c:/x.xml"])
def test_a_member_name_that_climbs_out_is_refused(tmp_path: Path, name: str) -> None:
    path = tmp_path / "p.zip"
    path.write_bytes(package({name: "<x/>"}))
    assert "may not be absolute or climb out of the package" in refused(path)


def test_a_zip_bomb_is_refused(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("imsmanifest.xml", "<manifest/>")
        archive.writestr("items/big.xml", b"<a>" + b" " * (20 * 1024 * 1024) + b"</a>")
    path = tmp_path / "bomb.zip"
    path.write_bytes(buffer.getvalue())
    assert "a zip bomb is refused" in refused(path)


def test_too_many_entries_and_too_large_a_package_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "many.zip"
    path.write_bytes(package({f"f{i}.txt": "x" for i in range(12)}))
    monkeypatch.setattr(qti_files, "MAX_ENTRIES", 10)
    assert "at most 10 entries" in refused(path)
    monkeypatch.setattr(qti_files, "MAX_PACKAGE_BYTES", 100)
    assert "at most 100 bytes" in refused(path)


def test_an_oversized_item_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(qti_files, "MAX_XML_BYTES", 50)
    path = tmp_path / "big.xml"
    path.write_text("<x>" + "y" * 100 + "</x>", encoding="utf-8")
    assert "at most 50 bytes" in refused(path)


def test_a_package_without_manifest_or_items_says_so(tmp_path: Path) -> None:
    bare = io.BytesIO()
    with zipfile.ZipFile(bare, "w") as archive:
        archive.writestr("item.xml", "<x/>")
    path = tmp_path / "bare.zip"
    path.write_bytes(bare.getvalue())
    assert "no imsmanifest.xml" in refused(path)
    empty = tmp_path / "empty.zip"
    empty.write_bytes(package({}))
    assert "the manifest lists no QTI item resource" in refused(empty)
    missing = tmp_path / "missing.zip"
    manifest = (
        '<manifest xmlns="http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1"><resources>'
        '<resource identifier="r" type="imsqti_item_xmlv3p0" href="../gone.xml"/>'
        "</resources></manifest>"
    )
    missing.write_bytes(package({}, manifest=manifest))
    assert "imsmanifest.xml line 1 <resource>: the item file '../gone.xml' is not in" in refused(
        missing
    )


def test_not_xml_and_not_qti_are_told_apart(tmp_path: Path) -> None:
    text = tmp_path / "notes.xml"
    text.write_text("hello", encoding="utf-8")
    assert "not well-formed XML" in refused(text)
    other = tmp_path / "other.xml"
    other.write_text('<html xmlns="http://www.w3.org/1999/xhtml"/>', encoding="utf-8")
    assert "not a QTI 3.0 qti-assessment-item or QTI 2.x assessmentItem" in refused(other)


def test_text_xml_cannot_carry_is_named_on_export() -> None:
    course = parse_course(LIT_COURSE)
    broken = dataclasses.replace(
        course, items=(dataclasses.replace(course.items[0], stem="Who wrote\x01 Hamlet?"),)
    )
    with pytest.raises(InvalidInput) as caught:
        write_package(broken)
    assert str(caught.value.problems[0]).startswith("item warmup: cannot be written as XML")


def test_a_member_is_read_only_when_asked_for_and_within_the_total_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "p.zip"
    path.write_bytes(package({"a.xml": "<a>" + "x" * 300 + "</a>", "b.xml": "<b/>"}))
    opened = qti_files.Package(path)
    monkeypatch.setattr(qti_files, "MAX_UNCOMPRESSED_BYTES", 200)
    assert opened.xml("b.xml") == qti_files.PackageFile("b.xml", b"<b/>")
    assert opened.xml("missing.xml") is None
    assert opened.xml("../b.xml") is None
    with pytest.raises(InvalidInput, match="expands too far"):
        opened.xml("a.xml")
