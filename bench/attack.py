"""Replay the attack probe of issue 16 against a real server on loopback.

Standalone script, not a test (each item is also a test in tests/security). Reproduce with::

    .venv/bin/python bench/attack.py [--budget-s 120]

It starts ``zoped demo`` on a fresh SQLite file and a free loopback port, sends each probe
over HTTP and checks the answer, then stops the server. Every request has a timeout and the
whole run a budget; it prints one line per check and exits 1 if any fails. ``/healthz`` is
timed after the expensive probes: a request that stalls the server shows there.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import itsdangerous

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "zoped-demo"
Check = Callable[[str], str | None]  # the server's URL -> None when it holds, else why not


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, timeout=10.0, follow_redirects=False)


def csrf(c: httpx.Client, path: str = "/signin") -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', c.get(path).text)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def signed_in(url: str, username: str) -> tuple[httpx.Client, str]:
    c = client(url)
    form = {"username": username, "password": PASSWORD, "csrf_token": csrf(c)}
    assert c.post("/signin", data=form).status_code == 303, f"cannot sign in {username}"
    return c, csrf(c, "/")


def healthz_fast(url: str) -> str | None:
    start = time.perf_counter()
    client(url).get("/healthz").raise_for_status()
    took = time.perf_counter() - start
    return None if took < 1.0 else f"/healthz took {took:.1f} s after the probe"


def default_key_cookie(url: str) -> str | None:
    data = base64.b64encode(json.dumps({"sid": "x", "uid": "admin"}).encode())
    cookie = itsdangerous.TimestampSigner("dev-only-change-me").sign(data).decode()
    c = client(url)
    c.cookies.set("zoped_session", cookie)
    status = c.get("/admin/audit").status_code
    return None if status == 303 else f"a cookie signed with the default key got {status}"


def deep_payload(url: str) -> str | None:
    c, token = signed_in(url, "amara")
    body = json.dumps(
        {"id": str(uuid.uuid4()), "learner_id": "amara", "kind": "answer",
         "occurred_at": "2026-11-30T10:00:00+00:00", "item_id": "q.found.non-unit.001",
         "correct": True, "payload": "P"}
    ).replace('"P"', '{"v": ' + "[" * 600 + "]" * 600 + "}")  # fmt: skip
    headers = {"X-CSRF-Token": token, "Content-Type": "application/json"}
    status = c.post("/api/v1/evidence", content=body, headers=headers).status_code
    if status != 422:
        return f"a payload nested 600 deep got {status}"
    export = c.get("/privacy/export/amara").status_code
    return None if export == 200 else f"the export answered {export}"


def goal_count(url: str) -> str | None:
    c, _ = signed_in(url, "amara")
    form = {"csrf_token": csrf(c, "/learner/plan"), "goal_count": "3000000", "version": "1"}
    start = time.perf_counter()
    status = c.post("/learner/plan", data=form).status_code
    took = time.perf_counter() - start
    return None if status == 422 and took < 2 else f"goal_count=3000000: {status} in {took:.1f} s"


def alias_bomb(url: str) -> str | None:
    c, _ = signed_in(url, "rivera")
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x"]']
    lines += [f"a{k}: &a{k} [" + ",".join([f"*a{k - 1}"] * 9) + "]" for k in range(1, 12)]
    files = {"course_file": ("bomb.yaml", "\n".join(lines).encode(), "application/x-yaml")}
    token = csrf(c, "/teacher/courses/import")
    start = time.perf_counter()
    status = c.post("/teacher/courses/import", data={"csrf_token": token}, files=files).status_code
    took = time.perf_counter() - start
    return None if status == 422 and took < 2 else f"an alias bomb: {status} in {took:.1f} s"


def throttling(url: str) -> str | None:
    c = client(url)
    for _ in range(6):
        c.post("/signin", data={"username": "kofi", "password": "x", "csrf_token": csrf(c)})
    locked = c.post("/signin", data={"username": "kofi", "password": PASSWORD,
                                     "csrf_token": csrf(c)}).status_code  # fmt: skip
    if locked != 429:
        return f"six failures from one address then the right password got {locked}"
    for _ in range(25):  # made-up names from the same address (a school behind one NAT)
        c.post("/signin", data={"username": f"nobody{uuid.uuid4().hex[:6]}", "password": "x",
                                "csrf_token": csrf(c)})  # fmt: skip
    other = client(url)
    status = other.post("/signin", data={"username": "amara", "password": PASSWORD,
                                         "csrf_token": csrf(other)}).status_code  # fmt: skip
    return None if status == 303 else f"another account from the same address got {status}"


def odd_input(url: str) -> str | None:
    c, token = signed_in(url, "amara")
    body = {"id": str(uuid.uuid4()), "learner_id": "amara", "kind": "answer",
            "occurred_at": "0001-01-01T00:00:00+14:00", "item_id": "q.found.non-unit.001",
            "correct": True}  # fmt: skip
    status = c.post("/api/v1/evidence", json=body, headers={"X-CSRF-Token": token}).status_code
    if status != 422:
        return f"0001-01-01T00:00:00+14:00 got {status}"
    body["occurred_at"] = "2026-11-30T10:00:00+00:00"
    strange = c.post("/api/v1/evidence", json=body, headers={b"X-CSRF-Token": "é".encode()})
    return None if strange.status_code == 403 else f"a non-ASCII CSRF header got {strange}"


def signed_out_cookie(url: str) -> str | None:
    c, token = signed_in(url, "elif")
    copy = client(url)
    copy.cookies.set("zoped_session", c.cookies["zoped_session"])
    c.post("/signout", data={"csrf_token": token})
    status = copy.get("/learner").status_code
    return None if status == 303 else f"a cookie copied before sign-out got {status} after it"


def no_store(url: str) -> str | None:
    c, _ = signed_in(url, "ben")
    header = c.get("/learner").headers.get("cache-control")
    return None if header == "no-store" else f"the learner page says Cache-Control: {header}"


CHECKS: list[tuple[str, Check]] = [
    ("1 default signing key", default_key_cookie),
    ("2 deep payload, export survives", deep_payload),
    ("3 goal_count bounded", goal_count),
    ("3 YAML alias bomb refused fast", alias_bomb),
    ("3 server still answers", healthz_fast),
    ("4 throttling: pair locked, NAT open", throttling),
    ("5 odd instant and CSRF header", odd_input),
    ("5 sign-out ends the session", signed_out_cookie),
    ("5 pages not cached", no_store),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget-s", type=float, default=180.0)
    args = parser.parse_args()
    deadline = time.monotonic() + args.budget_s
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        log = Path(tmp) / "server.log"
        cmd = [str(Path(sys.executable).parent / "zoped"), "demo", "--no-browser",
               "--db", str(Path(tmp) / "demo.db"), "--port", str(port)]  # fmt: skip
        with log.open("wb") as out:
            server = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, cwd=REPO,
                env={**os.environ, "ZOPED_ENVIRONMENT": "development"},
            )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            while True:
                try:
                    if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    print(log.read_text()[-3000:])
                    return 1
                time.sleep(0.5)
            failed = 0
            for name, check in CHECKS:
                if time.monotonic() > deadline:
                    print(f"OUT OF BUDGET  {name}")
                    failed += 1
                    continue
                try:
                    why = check(url)
                except (AssertionError, httpx.HTTPError) as error:
                    why = f"{type(error).__name__}: {error}"
                print(f"{'ok  ' if why is None else 'FAIL'}  {name}" + (f": {why}" if why else ""))
                failed += why is not None
            return 1 if failed else 0
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    sys.exit(main())
