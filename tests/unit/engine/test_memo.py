"""What is derived from a course is kept by the course object's identity."""

from __future__ import annotations

import dataclasses

from tests import factories as f
from zoped.engine.memo import per_course


def test_a_course_object_is_derived_from_once_and_an_equal_copy_afresh() -> None:
    calls: list[str] = []

    @per_course
    def title_twice(course: object, suffix: str) -> str:
        calls.append(suffix)
        return f"{course.title}{suffix}"  # type: ignore[attr-defined]

    course = f.course()
    assert title_twice(course, "!") == title_twice(course, "!")
    assert calls == ["!"]
    title_twice(course, "?")
    copy = dataclasses.replace(course)
    assert copy == course
    title_twice(copy, "!")
    assert calls == ["!", "?", "!"]
