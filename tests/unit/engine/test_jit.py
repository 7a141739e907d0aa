"""zoped.engine._jit: kernels cache on disk where they can, and still load where they cannot."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import numba
import pytest

from zoped.engine import _jit


def test_without_a_writable_cache_folder_the_kernels_compile_in_memory(monkeypatch):
    real_njit = numba.njit

    def no_locator(*args: Any, **options: Any) -> Any:
        if options.get("cache"):
            raise RuntimeError("cannot cache function 'f': no locator available for file 'x.py'")
        return real_njit(*args, **options)

    monkeypatch.setattr(numba, "njit", no_locator)
    monkeypatch.setattr(_jit, "_warned", [])
    with pytest.warns(RuntimeWarning, match="NUMBA_CACHE_DIR"):

        @_jit.njit()
        def double(x: float) -> float:
            return 2.0 * x

    assert double(2.5) == 5.0


def test_other_numba_errors_are_not_hidden(monkeypatch):
    def broken(*args: Any, **options: Any) -> Any:
        raise RuntimeError("something else")

    monkeypatch.setattr(numba, "njit", broken)
    with pytest.raises(RuntimeError, match="something else"):
        _jit.njit()(lambda x: x)


def test_the_engine_imports_where_numba_can_write_no_cache():
    # Only a NUMBA_CACHE_DIR that cannot be created is allowed as a cache location: numba
    # finds none, and without the fallback the import itself raises.
    env = {
        **os.environ,
        "NUMBA_CACHE_LOCATOR_CLASSES": "UserProvidedCacheLocator",
        "NUMBA_CACHE_DIR": "/proc/zoped-no-cache-here",
    }
    code = "import zoped.engine.bkt, zoped.engine.memory_curves, zoped.engine._features"
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("NUMBA_CACHE_DIR") == 1
