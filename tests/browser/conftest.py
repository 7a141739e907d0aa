"""The browser harness: the real server in a subprocess, driven by the system Chromium.

The server is ``zoped demo --no-browser`` on a free loopback port with a fresh SQLite file, so
it seeds the demo school itself. Its output is kept and shown in the failure message of any
test that fails. Screenshots go to ``test-artifacts/screenshots/``. Without Chromium the tests
skip locally and fail in CI (``tests.conftest.missing``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, missing

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A running ``zoped demo`` and its log file."""

    def __init__(self, url: str, log: Path, process: subprocess.Popen[bytes]) -> None:
        self.url = url
        self.log = log
        self.process = process

    def logs(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]


def start_server(tmp: Path, cmd: list[str], env: dict[str, str] | None = None) -> Server:
    """Start ``cmd`` (a zoped command serving on the port it names) and wait until it answers."""
    log = tmp / "server.log"
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    with log.open("wb") as out:
        process = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, cwd=REPO, env=full_env
        )
    port = cmd[cmd.index("--port") + 1]
    url = f"http://127.0.0.1:{port}"
    running = Server(url, log, process)
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as reply:
                if reply.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the server did not start:\n{running.logs()}")
        time.sleep(0.5)
    return running


def stop_server(running: Server) -> None:
    running.process.terminate()
    try:
        running.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        running.process.kill()


ZOPED = str(Path(sys.executable).parent / "zoped")


@contextlib.contextmanager
def demo_with_qti(tmp: Path, archive: bytes, mapping: str) -> Iterator[Server]:
    """A demo server of its own whose course has the QTI package ``archive`` imported while it
    runs, its items tagged by the mapping file ``mapping`` (``item,competency`` rows)."""
    db = tmp / "demo.db"
    running = start_server(
        tmp, [ZOPED, "demo", "--no-browser", "--db", str(db), "--port", str(_free_port())]
    )
    try:
        (tmp / "items.zip").write_bytes(archive)
        (tmp / "map.csv").write_text(mapping, encoding="utf-8")
        done = subprocess.run(
            [
                *(ZOPED, "import", "qti", str(tmp / "items.zip"), "--course", "fractions-ratios"),
                *("--mapping", str(tmp / "map.csv"), "--db", f"sqlite:///{db}"),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        yield running
    finally:
        stop_server(running)


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("server")
    cmd = [ZOPED, "demo", "--no-browser", "--db", str(tmp / "demo.db"), "--port", str(_free_port())]
    running = start_server(tmp, cmd)
    yield running
    stop_server(running)


@pytest.fixture(scope="session")
def browser():
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        missing("chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, server, request):
    context = browser.new_context(viewport=VIEWPORTS["desktop"])
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    yield opened
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    funcargs = getattr(item, "funcargs", {})
    for name in ("server", "empty_server"):
        running = funcargs.get(name)
        if report.failed and isinstance(running, Server):
            report.sections.append((f"zoped server log ({name})", running.logs()))


def screenshot(page, name: str) -> None:
    """Save the page at phone and desktop widths (full page)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in VIEWPORTS.items():
        page.set_viewport_size(size)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(VIEWPORTS["desktop"])


@pytest.fixture(scope="session")
def base_url(server: Server) -> str:
    """The running server's address (``http://127.0.0.1:PORT``)."""
    return server.url


@pytest.fixture(name="screenshot")
def screenshot_fixture():
    """The screenshot helper, as a fixture: ``screenshot(page, name)``."""
    return screenshot
