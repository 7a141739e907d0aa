"""What a learner hands in for an activity: a reflection when they mark it done, and the work
of a project (a text, a web link, one small file).

Both become ``activity_completion`` evidence: the text and link live in the event's payload.
A file's bytes are kept beside the event (the store's ``project_files``, with the learner's
other data) and the payload names it (:class:`FileRecord`: name, type, size, SHA-256); files
handed in before that was so sit in the payload as base64 and are still read. Its type is read
from its first bytes (:func:`sniff_media_type`), never from the name or the browser's word.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any, Self

from zoped.domain.content import is_web_link
from zoped.errors import InvalidInput, Problem

#: The longest reflection a learner writes when marking an activity done, in characters.
MAX_REFLECTION = 2_000
#: The longest project text, in characters.
MAX_PROJECT_TEXT = 2_000
#: The longest link, in characters.
MAX_LINK = 500
#: The largest file, in bytes: a phone's photo of the work, or a few pages of PDF.
MAX_FILE_BYTES = 4_000_000
#: The longest file name kept (the rest is cut).
MAX_FILE_NAME = 120

#: The file types a project may carry, as the learner reads them.
ALLOWED_TYPES = {
    "application/pdf": "PDF",
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "text/plain": "plain text",
}
#: The allowed types in words: "PDF, PNG, JPEG or plain text".
ALLOWED_KINDS = "PDF, PNG, JPEG or plain text"
#: File name extensions by type, for downloads.
EXTENSIONS = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "text/plain": ".txt",
}


def size_in_words(n_bytes: int) -> str:
    """A file size as people say it: "850 bytes", "30 kB", "4 MB", "2.5 MB"."""
    if n_bytes < 1_000:
        return f"{n_bytes} bytes"
    if n_bytes < 1_000_000:
        return f"{n_bytes / 1_000:.3g} kB"
    return f"{n_bytes / 1_000_000:.3g} MB"


#: The largest file, in words ("4 MB").
MAX_FILE_IN_WORDS = size_in_words(MAX_FILE_BYTES)


def sniff_media_type(data: bytes) -> str | None:
    """The type of a file from its content: PDF, PNG, JPEG or UTF-8 plain text; None for
    anything else (an empty file included)."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if not data:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(ord(ch) < 32 and ch not in "\t\n\r\f" for ch in text) or "\x7f" in text:
        return None
    return "text/plain"


def clean_file_name(name: str, media_type: str) -> str:
    """A file name safe to offer in a download: no folders, no control or quote characters,
    at most :data:`MAX_FILE_NAME` characters, ending in the extension of its real type."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    kept = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>:|?*;').strip(" .")
    stem = kept.rsplit(".", 1)[0] if "." in kept else kept
    extension = EXTENSIONS[media_type]
    return (stem[: MAX_FILE_NAME - len(extension)] or "work") + extension


@dataclass(frozen=True)
class FileRecord:
    """What an event's payload says of the file handed in with it (not its bytes)."""

    name: str
    media_type: str
    size_bytes: int
    sha256: str

    def to_payload(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "media_type": self.media_type,
            "size_bytes": self.size_bytes,
            "sha256": self.sha256,
        }

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> FileRecord:
        """The record, also of a file kept in the payload itself (base64, before 0016)."""
        inline = SubmittedFile.from_inline(data)
        if inline is not None:
            return inline.record
        return cls(
            name=str(data["name"]),
            media_type=str(data["media_type"]),
            size_bytes=int(data["size_bytes"]),
            sha256=str(data["sha256"]),
        )


@dataclass(frozen=True)
class SubmittedFile:
    """A file handed in with a project."""

    name: str
    media_type: str
    data: bytes

    @property
    def size_bytes(self) -> int:
        return len(self.data)

    @property
    def record(self) -> FileRecord:
        digest = hashlib.sha256(self.data).hexdigest()
        return FileRecord(self.name, self.media_type, self.size_bytes, digest)

    @classmethod
    def from_inline(cls, data: dict[str, Any]) -> SubmittedFile | None:
        """The file of a payload that holds it as base64 (handed in before 0016), else None."""
        if "base64" not in data:
            return None
        return cls(
            name=str(data["name"]),
            media_type=str(data["media_type"]),
            data=base64.b64decode(str(data["base64"])),
        )


def read_file(name: str, data: bytes) -> SubmittedFile:
    """A file as a learner uploaded it, checked: size and type (by content).

    Raises:
        InvalidInput: too large, empty, or not a PDF, PNG, JPEG or plain text (at ``file``).
    """
    if len(data) > MAX_FILE_BYTES:
        raise InvalidInput(
            "the file is too large",
            [Problem("file", f"The file is too large: at most {MAX_FILE_IN_WORDS}.")],
        )
    media_type = sniff_media_type(data)
    if media_type is None:
        raise InvalidInput(
            "this kind of file is not accepted",
            [Problem("file", f"This kind of file is not accepted: send a {ALLOWED_KINDS} file.")],
        )
    return SubmittedFile(clean_file_name(name, media_type), media_type, data)


@dataclass(frozen=True)
class ProjectSubmission:
    """A project's work as handed in: a text and/or a web link, and at most one file (its bytes
    on the way in, its :class:`FileRecord` once stored)."""

    text: str = ""
    link: str = ""
    file: SubmittedFile | FileRecord | None = None

    def problems(self) -> list[Problem]:
        """Every problem, located at the form's field names."""
        problems: list[Problem] = []
        if len(self.text) > MAX_PROJECT_TEXT:
            problems.append(
                Problem(
                    "text",
                    f"Your text is {len(self.text):,} characters long: "
                    f"at most {MAX_PROJECT_TEXT:,}.",
                )
            )
        if len(self.link) > MAX_LINK:
            problems.append(Problem("link", f"The link is too long: at most {MAX_LINK} letters."))
        elif self.link and not is_web_link(self.link):
            problems.append(
                Problem("link", "A link starts with https:// or http:// and names a website.")
            )
        if not (self.text.strip() or self.link.strip() or self.file):
            problems.append(Problem("text", "Write something, give a link or add a file."))
        return problems

    def validate(self) -> Self:
        """Return self if valid. Raises: InvalidInput listing every problem."""
        problems = self.problems()
        if problems:
            raise InvalidInput("the project cannot be handed in", problems)
        return self

    def to_payload(self) -> dict[str, Any]:
        found: dict[str, Any] = {"text": self.text, "link": self.link}
        if self.file is not None:
            record = self.file.record if isinstance(self.file, SubmittedFile) else self.file
            found["file"] = record.to_payload()
        return found

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> ProjectSubmission:
        file = data.get("file")
        return cls(
            text=str(data.get("text") or ""),
            link=str(data.get("link") or ""),
            file=FileRecord.from_payload(file) if isinstance(file, dict) else None,
        )


def reflection_problems(reflection: str) -> list[Problem]:
    """A problem if a reflection is too long (it may be empty)."""
    if len(reflection) > MAX_REFLECTION:
        return [
            Problem(
                "reflection",
                f"Your reflection is {len(reflection):,} characters long: "
                f"at most {MAX_REFLECTION:,}.",
            )
        ]
    return []
