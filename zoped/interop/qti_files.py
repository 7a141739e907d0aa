"""Reading QTI files safely: XML through lxml with no network, no DTD and no entity expansion,
and content packages (zips) within limits on size, entries and expansion, with no member name
that climbs out of the package.

Everything here raises :class:`~zoped.errors.InvalidInput` naming the file (and, for XML, the
line) at fault; nothing is written anywhere.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from lxml import etree

from zoped.errors import InvalidInput, Problem

#: The largest package (zip) read, in bytes.
MAX_PACKAGE_BYTES = 50 * 1024 * 1024
#: The most entries a package may hold.
MAX_ENTRIES = 2_000
#: The most bytes a package may hold once uncompressed (all entries together).
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
#: The largest XML document read (an item, a manifest), in bytes.
MAX_XML_BYTES = 5 * 1024 * 1024
#: The largest ratio of uncompressed to compressed size an entry may have (a zip bomb's is huge).
MAX_RATIO = 200


def xml_parser() -> etree.XMLParser:
    """An lxml parser that reads nothing but the document: no network, no DTD, no entities."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_xml(data: bytes, source: str) -> etree._Element:
    """The root element of an XML document.

    Raises:
        InvalidInput: a document too large, not well-formed, or with a DOCTYPE (QTI needs none,
            and a DTD is how entity expansion attacks arrive).
    """
    if len(data) > MAX_XML_BYTES:
        raise InvalidInput(
            f"{source}: too large",
            [Problem(source, f"an XML document may have at most {MAX_XML_BYTES:,} bytes")],
        )
    try:
        root = etree.fromstring(data, parser=xml_parser())
    except etree.XMLSyntaxError as error:
        line = error.lineno or 0
        raise InvalidInput(
            f"{source}: not well-formed XML",
            [Problem(f"{source} line {line}", f"not well-formed XML: {error.msg or error}")],
        ) from None
    if root.getroottree().docinfo.doctype:
        raise InvalidInput(
            f"{source}: has a DOCTYPE",
            [Problem(f"{source} line 1", "a DOCTYPE (DTD) is not accepted in QTI files")],
        )
    return root


@dataclass(frozen=True)
class PackageFile:
    """One XML file of a package, as bytes, with its name inside the package."""

    name: str
    data: bytes


class Files(Protocol):
    """Where an item's pictures are read from: a :class:`Package`, or :class:`MemoryFiles`."""

    def binary(self, name: str, cap: int) -> PackageFile | None:
        """The file at ``name``, at most ``cap`` + 1 bytes of it, or None when absent."""
        ...


class MemoryFiles:
    """Files held in memory by their package paths (what an export is about to write)."""

    def __init__(self, files: Mapping[str, bytes]) -> None:
        self._files = dict(files)

    def binary(self, name: str, cap: int) -> PackageFile | None:
        """The file at ``name``, at most ``cap`` + 1 bytes of it, or None when absent."""
        data = self._files.get(name)
        return None if data is None else PackageFile(name, data[: cap + 1])


def _safe_member(name: str) -> str | None:
    """The normalised member name, or None when it is absolute or climbs out of the package."""
    if "\\" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return None
    normal = posixpath.normpath(name)
    if normal.startswith("..") or normal.startswith("/"):
        return None
    return normal


class Package:
    """A QTI content package (a zip holding ``imsmanifest.xml``), checked and read in memory.

    Raises (on construction):
        InvalidInput: a file that is not a zip, too large, with too many entries, expanding too
            far (a zip bomb), with a member name that is absolute or climbs out (``../``), or
            without ``imsmanifest.xml``.
    """

    def __init__(self, path: Path) -> None:
        self.source = path.name
        size = path.stat().st_size
        problems: list[Problem] = []
        if size > MAX_PACKAGE_BYTES:
            raise InvalidInput(
                f"{self.source}: too large",
                [Problem(self.source, f"a package may have at most {MAX_PACKAGE_BYTES:,} bytes")],
            )
        try:
            # Kept in memory (it is at most MAX_PACKAGE_BYTES); members are read when asked for.
            archive = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
        except (zipfile.BadZipFile, OSError) as error:
            raise InvalidInput(
                f"{self.source}: not a zip file", [Problem(self.source, str(error))]
            ) from None
        self._archive = archive
        self._read_bytes = 0
        infos = archive.infolist()
        if len(infos) > MAX_ENTRIES:
            raise InvalidInput(
                f"{self.source}: too many entries",
                [Problem(self.source, f"a package may hold at most {MAX_ENTRIES:,} entries")],
            )
        total = sum(i.file_size for i in infos)
        if total > MAX_UNCOMPRESSED_BYTES:
            problems.append(
                Problem(
                    self.source,
                    f"expands to {total:,} bytes; at most {MAX_UNCOMPRESSED_BYTES:,} allowed",
                )
            )
        names: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            safe = _safe_member(info.filename)
            if safe is None:
                problems.append(
                    Problem(
                        f"{self.source}: {info.filename}",
                        "a member name may not be absolute or climb out of the package",
                    )
                )
                continue
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > 1024 * 1024 and ratio > MAX_RATIO:
                problems.append(
                    Problem(
                        f"{self.source}: {info.filename}",
                        f"expands {ratio:,.0f} times; a zip bomb is refused",
                    )
                )
            if not info.is_dir():
                names[safe] = info
        if problems:
            raise InvalidInput(f"{self.source}: refused", problems)
        if "imsmanifest.xml" not in names:
            raise InvalidInput(
                f"{self.source}: not a content package",
                [Problem(self.source, "no imsmanifest.xml at the top of the zip")],
            )
        self._infos = names

    def _read(self, info: zipfile.ZipInfo, cap: int = MAX_XML_BYTES) -> bytes:
        # Read at most one byte past each cap: the sizes a zip declares may lie.
        where = f"{self.source}: {info.filename}"
        try:
            with self._archive.open(info) as member:
                data = member.read(cap + 1)
        except (zipfile.BadZipFile, zlib.error, OSError) as error:
            raise InvalidInput(f"{where}: unreadable", [Problem(where, str(error))]) from None
        # An XML file too large is refused here; for other files the caller says (cap + 1 read).
        if cap == MAX_XML_BYTES and len(data) > MAX_XML_BYTES:
            raise InvalidInput(
                f"{where} too large",
                [Problem(where, f"an XML file may have at most {MAX_XML_BYTES:,} bytes")],
            )
        self._read_bytes += len(data)
        if self._read_bytes > MAX_UNCOMPRESSED_BYTES:
            raise InvalidInput(
                f"{self.source}: expands too far",
                [Problem(where, f"at most {MAX_UNCOMPRESSED_BYTES:,} bytes may be read in all")],
            )
        return data

    def xml(self, name: str) -> PackageFile | None:
        """The file at ``name`` (a path inside the package), read now, or None when absent.

        Raises:
            InvalidInput: the file is unreadable or too large, or the package has expanded
                past :data:`MAX_UNCOMPRESSED_BYTES` in all.
        """
        safe = _safe_member(name)
        info = self._infos.get(safe) if safe is not None else None
        if safe is None or info is None:
            return None
        return PackageFile(safe, self._read(info))

    def binary(self, name: str, cap: int) -> PackageFile | None:
        """The file at ``name`` read now, at most ``cap`` + 1 bytes (more means too large), or
        None when absent.

        Raises:
            InvalidInput: the file is unreadable.
        """
        safe = _safe_member(name)
        info = self._infos.get(safe) if safe is not None else None
        if safe is None or info is None:
            return None
        return PackageFile(safe, self._read(info, cap))


def resolve_href(base: str, href: str) -> str | None:
    """``href`` (from a file at ``base``) as a package path; None when it leaves the package or
    is a web address."""
    if "://" in href or href.startswith("/"):
        return None
    return _safe_member(posixpath.join(posixpath.dirname(base), href))
