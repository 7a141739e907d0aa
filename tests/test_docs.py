"""The generated reference pages are in step with the code."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

from tests.conftest import REPO


def _gen_docs():
    spec = importlib.util.spec_from_file_location("gen_docs", REPO / "scripts" / "gen_docs.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_configuration_page_is_current():
    page = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert page == _gen_docs().configuration_page(), "run: python scripts/gen_docs.py"


def test_every_setting_has_a_description():
    from zoped.settings import Settings

    missing = [name for name, field in Settings.model_fields.items() if not field.description]
    assert missing == []


def test_cli_page_lists_every_command():
    page = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    expected = _gen_docs().cli_page()
    headings = [line for line in expected.splitlines() if line.startswith("## ")]
    assert headings, "the generator found no commands"
    for heading in headings:
        assert heading in page, f"{heading} missing from docs/cli.md: run scripts/gen_docs.py"


def test_engine_imports_no_database_or_web_framework():
    code = (
        "import sys, zoped.engine.base, zoped.engine.registry, zoped.domain.course;"
        "bad = [m for m in ('sqlalchemy', 'fastapi', 'starlette', 'alembic') if m in sys.modules];"
        "print(','.join(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert out.stdout.strip() == ""
