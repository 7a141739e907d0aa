"""``multipart/mixed`` bodies of xAPI statements with attachments (xAPI 1.0.3, 2.1.11).

The first part is the statement (or the list of them) as JSON; each further part is one
attachment's content, named by its ``X-Experience-API-Hash`` header (the SHA-2 the statement
gives), which must be the hash of the part.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from typing import Any

from zoped.errors import InvalidInput, Problem

_HASHES = {64: hashlib.sha256, 96: hashlib.sha384, 128: hashlib.sha512}


def sha2_matches(sha2: str, content: bytes) -> bool:
    """Whether ``sha2`` (SHA-256, -384 or -512 in hex) is the hash of ``content``."""
    hasher = _HASHES.get(len(sha2))
    return hasher is not None and hasher(content).hexdigest() == sha2.lower()


def _boundary(content_type: str) -> str | None:
    for param in content_type.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "boundary" and value:
            return value.strip().strip('"')
    return None


def _headers(block: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in block.decode("latin-1").split("\r\n"):
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    return headers


def parse(content_type: str, body: bytes) -> tuple[Any, dict[str, tuple[str, bytes]]]:
    """The statement JSON and the attachments (SHA-2 -> (content type, bytes)) of a body.

    Raises:
        InvalidInput: no boundary, no JSON first part, a part without its hash header, or a
            part whose hash is not the one named.
    """

    def bad(message: str) -> InvalidInput:
        return InvalidInput("invalid multipart/mixed body", [Problem("body", message)])

    boundary = _boundary(content_type)
    if boundary is None:
        raise bad("the Content-Type names no boundary")
    delimiter = b"--" + boundary.encode("latin-1")
    chunks = body.split(delimiter)
    if len(chunks) < 3 or not chunks[-1].startswith(b"--"):
        raise bad("the body is not multipart/mixed with that boundary")
    parts = []
    for chunk in chunks[1:-1]:
        chunk = chunk.removeprefix(b"\r\n").removesuffix(b"\r\n")
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            head, content = (b"", chunk) if chunk.startswith(b"\r\n") else (head, b"")
        parts.append((_headers(head), content))
    if not parts:
        raise bad("no statement part")
    first_headers, first = parts[0]
    if "application/json" not in first_headers.get("content-type", ""):
        raise bad("the first part is the statement, as application/json")
    try:
        statements = json.loads(first)
    except (ValueError, UnicodeDecodeError) as error:
        raise bad("the first part is not JSON") from error
    attachments: dict[str, tuple[str, bytes]] = {}
    for headers, content in parts[1:]:
        sha2 = headers.get("x-experience-api-hash")
        if not sha2:
            raise bad("every attachment part has an X-Experience-API-Hash header")
        if not sha2_matches(sha2, content):
            raise bad(f"the part {sha2} does not have that hash")
        if headers.get("content-transfer-encoding", "binary").lower() != "binary":
            raise bad("attachment parts use Content-Transfer-Encoding: binary")
        attachments[sha2] = (headers.get("content-type", "application/octet-stream"), content)
    return statements, attachments


def build(document: Any, attachments: Mapping[str, tuple[str, bytes]]) -> tuple[str, bytes]:
    """A ``multipart/mixed`` body: the JSON document, then each attachment. Returns the
    Content-Type (with its boundary) and the body."""
    boundary = "zoped-" + secrets.token_hex(16)
    out = [
        f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode(),
        json.dumps(document, separators=(",", ":")).encode(),
        b"\r\n",
    ]
    for sha2, (ctype, content) in attachments.items():
        out += [
            (
                f"--{boundary}\r\nContent-Type: {ctype}\r\nContent-Transfer-Encoding: binary\r\n"
                f"X-Experience-API-Hash: {sha2}\r\n\r\n"
            ).encode(),
            content,
            b"\r\n",
        ]
    out.append(f"--{boundary}--\r\n".encode())
    return f'multipart/mixed; boundary="{boundary}"', b"".join(out)
