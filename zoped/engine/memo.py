"""Keep what is derived from a course for as long as the course object lives.

Courses are immutable and the services keep one object per stored revision
(:func:`zoped.services.courses.get_course`), so a graph, a fingerprint or default parameters
derived from a course can be kept by the course's identity instead of being derived again on
every request.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

R = TypeVar("R")

#: Courses remembered per function (the newest kept; a process serves few courses).
KEPT = 32


def per_course(fn: Callable[..., R]) -> Callable[..., R]:
    """Memoise ``fn(course, *rest)`` by the course's identity and ``rest`` (hashable). The
    course object itself is held with the result, so its id cannot be reused meanwhile."""
    kept: OrderedDict[tuple[int, tuple[Hashable, ...]], tuple[Any, R]] = OrderedDict()
    lock = threading.Lock()

    @functools.wraps(fn)
    def wrapper(course: Any, *rest: Hashable) -> R:
        key = (id(course), rest)
        with lock:
            found = kept.get(key)
            if found is not None and found[0] is course:
                kept.move_to_end(key)
                return found[1]
        result = fn(course, *rest)
        with lock:
            kept[key] = (course, result)
            while len(kept) > KEPT:
                kept.popitem(last=False)
        return result

    return wrapper
