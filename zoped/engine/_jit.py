"""numba's ``njit``, cached on disk where a cache folder can be written, compiled per process
where none can.

numba looks for a writable folder for its cache in this order: ``NUMBA_CACHE_DIR``, the
``__pycache__`` beside the source, the user's cache folder (``~/.cache/numba``). Where none is
writable (zoped installed read-only, a service user without a home), ``njit(cache=True)``
raises at import, so the whole engine would fail to load. Here the kernels are then compiled
in memory instead, once per process (a few seconds on the first fit), and a warning says how
to get the cache back: point ``NUMBA_CACHE_DIR`` at a writable folder.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba

_F = TypeVar("_F", bound=Callable[..., Any])

NO_CACHE_WARNING = (
    "numba finds no writable folder to cache zoped's compiled kernels in, so every process "
    "compiles them again on first use; set NUMBA_CACHE_DIR to a writable folder"
)
_warned: list[bool] = []


def njit(*, cache: bool = True, **options: Any) -> Callable[[_F], _F]:
    """``numba.njit(cache=cache, **options)`` that falls back to no disk cache (see above)."""

    def wrap(fn: _F) -> _F:
        if cache:
            try:
                return cast(_F, numba.njit(cache=True, **options)(fn))
            except RuntimeError as exc:
                if "no locator available" not in str(exc):
                    raise
                if not _warned:  # once per process, not once per kernel
                    _warned.append(True)
                    warnings.warn(NO_CACHE_WARNING, RuntimeWarning, stacklevel=2)
        return cast(_F, numba.njit(**options)(fn))

    return wrap
