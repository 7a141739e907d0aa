"""Writing CASE packages: what zoped writes validates against the official schema of each
version and reads back to the same framework (property tests, and the demo course)."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.case.packages import fractions
from tests.strategies import frameworks
from zoped.domain.course import Course
from zoped.domain.framework import Framework
from zoped.interop.case import read_package, schema_problems
from zoped.interop.case_map import map_framework
from zoped.interop.case_write import write_package
from zoped.interop.course_file import load_course_file

AT = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


@functools.cache
def _demo() -> Course:
    with resources.as_file(resources.files("zoped.content").joinpath("demo_course.yaml")) as p:
        return load_course_file(p)


def _export(
    framework: Framework, version: str, record: dict[str, Any] | None = None
) -> dict[str, Any]:
    package, left_out = write_package(
        code="maths",
        key="maths",
        title="Maths",
        description="",
        language="en",
        competencies=framework.competencies,
        changed_at=AT,
        record=record,
        version=version,
    )
    assert left_out == []
    return package


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_the_demo_course_round_trips_through_both_versions(version: str) -> None:
    framework = _demo().framework
    package = _export(framework, version)
    assert schema_problems(package, version) == []
    back = map_framework(read_package(package, version=version))
    assert back.competencies == framework.competencies
    assert back.notes == ()  # nothing to tolerate in what zoped writes
    # The same course exports to the same package, identifiers included.
    assert _export(framework, version) == package


@given(framework=frameworks(), version=st.sampled_from(["1.0", "1.1"]))
def test_any_framework_round_trips(framework: Framework, version: str) -> None:
    package = _export(framework, version)
    assert schema_problems(package, version) == []
    back = map_framework(read_package(package, version=version))
    expected = tuple(
        c if c.description != c.title else type(c)(**{**c.__dict__, "description": ""})
        for c in framework.competencies
    )
    assert back.competencies == expected


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_an_imported_package_exports_with_its_identifiers_and_links(version: str) -> None:
    source = map_framework(read_package(fractions()))
    package = _export(Framework.build(source.competencies), version, source.record)
    assert schema_problems(package, version) == []
    original = fractions()
    assert [i["identifier"] for i in package["CFItems"]] == [
        i["identifier"] for i in original["CFItems"]
    ]
    kept = {a["identifier"] for a in package["CFAssociations"]}
    assert kept == {a["identifier"] for a in original["CFAssociations"]}
    back = map_framework(
        read_package(package, version=version),
        known={v: k for k, v in source.identifiers.items()},
    )
    assert back.competencies == source.competencies
    assert back.links == source.links


def test_a_11_only_link_is_left_out_of_a_10_export_and_said() -> None:
    data = fractions()
    data["CFDocument"]["caseVersion"] = "1.1"
    data["CFAssociations"][6]["associationType"] = "isTranslationOf"
    source = map_framework(read_package(data))
    package, left_out = write_package(
        code="maths",
        key="maths",
        title="Maths",
        description="",
        language="en",
        competencies=source.competencies,
        changed_at=AT,
        record=source.record,
        version="1.0",
    )
    assert schema_problems(package, "1.0") == []
    assert len(left_out) == 1
    assert "isTranslationOf" in left_out[0]


@st.composite
def _quirky(draw: st.DrawFn) -> tuple[Framework, dict[str, Any], set[str]]:
    """A framework's 1.0 export bent the ways real packages are, and the kinds of quirk used."""
    framework = draw(frameworks(max_size=8))
    package = _export(framework, "1.0")
    used: set[str] = set()
    for association in package["CFAssociations"]:
        if "sequenceNumber" in association and draw(st.booleans()):
            association["sequenceNumber"] = str(association["sequenceNumber"])
            used.add("number-as-string")
    for record in [package["CFDocument"], *package["CFItems"], *package["CFAssociations"]]:
        choice = draw(st.sampled_from(["keep", "no-zone", "date", "drop"]))
        if choice == "no-zone":
            record["lastChangeDateTime"] = record["lastChangeDateTime"].removesuffix("Z")
            used.add("timestamp-without-zone")
        elif choice == "date":
            record["lastChangeDateTime"] = record["lastChangeDateTime"][:10]
            used.add("date-for-date-time")
        elif choice == "drop" and record is not package["CFDocument"]:
            del record["lastChangeDateTime"]
            used.add("missing-field")
    if draw(st.booleans()):
        package = {"CFPackage": package}
        used.add("wrapped")
    return framework, package, used


@given(case=_quirky())
def test_quirky_packages_read_as_the_framework_with_every_quirk_reported(
    case: tuple[Framework, dict[str, Any], set[str]],
) -> None:
    framework, package, used = case
    read = read_package(package)
    assert {q.kind for q in read.quirks} == used
    back = map_framework(read)
    expected = tuple(
        c if c.description != c.title else type(c)(**{**c.__dict__, "description": ""})
        for c in framework.competencies
    )
    assert back.competencies == expected
