"""Statements with attachments: multipart/mixed in, the parts checked against their SHA-2, and
multipart/mixed out with ``attachments=true``; signed statements checked for form."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from tests.lrs.conftest import Lrs
from tests.lrs.test_statements import ENDPOINT, statement

BOUNDARY = "zoped-test-boundary"
SIGNATURE = "http://adlnet.gov/expapi/attachments/signature"


def attachment(content: bytes, **changes: Any) -> dict[str, Any]:
    found = {
        "usageType": "http://example.com/attachment-usage/notes",
        "display": {"en-US": "Notes"},
        "contentType": "text/plain",
        "length": len(content),
        "sha2": hashlib.sha256(content).hexdigest(),
    }
    found.update(changes)
    return found


def multipart(document: Any, parts: list[tuple[str, bytes, str]]) -> bytes:
    out = [f"--{BOUNDARY}\r\nContent-Type: application/json\r\n\r\n".encode()]
    out += [json.dumps(document).encode(), b"\r\n"]
    for ctype, content, sha2 in parts:
        out.append(
            (
                f"--{BOUNDARY}\r\nContent-Type: {ctype}\r\nContent-Transfer-Encoding: binary\r\n"
                f"X-Experience-API-Hash: {sha2}\r\n\r\n"
            ).encode()
        )
        out += [content, b"\r\n"]
    out.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(out)


def post(lrs: Lrs, body: bytes) -> Any:
    headers = {**lrs.north, "Content-Type": f'multipart/mixed; boundary="{BOUNDARY}"'}
    return lrs.client.post(ENDPOINT, content=body, headers=headers)


def test_an_attachment_is_stored_and_given_back(lrs: Lrs) -> None:
    content = b"\x00binary\r\nnotes\xff"
    sha2 = hashlib.sha256(content).hexdigest()
    sent = statement(attachments=[attachment(content)])
    posted = post(lrs, multipart(sent, [("text/plain", content, sha2)]))
    assert posted.status_code == 200, posted.text
    [sid] = posted.json()
    got = lrs.client.get(
        ENDPOINT, params={"statementId": sid, "attachments": "true"}, headers=lrs.north
    )
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("multipart/mixed")
    assert content in got.content
    assert f"X-Experience-API-Hash: {sha2}".encode() in got.content


def test_parts_that_do_not_match_their_statements_are_refused(lrs: Lrs) -> None:
    content = b"notes"
    sha2 = hashlib.sha256(content).hexdigest()
    sent = statement(attachments=[attachment(content)])
    wrong_hash = post(lrs, multipart(sent, [("text/plain", b"other", sha2)]))
    assert wrong_hash.status_code == 400
    missing = post(lrs, multipart(sent, []))
    assert missing.status_code == 400
    assert lrs.client.get(ENDPOINT, headers=lrs.north).json()["statements"] == []


def _jws(header: dict[str, Any], payload: Any) -> bytes:
    def part(value: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part(header)}.{part(payload)}.c2lnbmF0dXJl".encode()


def test_a_signed_statement_needs_a_jws_of_itself_with_an_rsa_algorithm(lrs: Lrs) -> None:
    unsigned = statement()
    for header, payload, expected in (
        ({"alg": "RS256"}, unsigned, 200),
        ({"alg": "HS256"}, unsigned, 400),
        ({"alg": "RS256"}, statement(verb={"id": "http://example.com/other"}), 400),
    ):
        signature = _jws(header, payload)
        sha2 = hashlib.sha256(signature).hexdigest()
        signed = {
            **unsigned,
            "attachments": [
                attachment(signature, usageType=SIGNATURE, contentType="application/octet-stream")
            ],
        }
        response = post(lrs, multipart(signed, [("application/octet-stream", signature, sha2)]))
        assert response.status_code == expected, (header, response.text)
