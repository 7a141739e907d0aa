"""Reading CASE packages: the official schemas, the tolerated 1.0 quirks (each reported), errors
located as paths into the package, and the mapping onto a framework (isChildOf the hierarchy,
precedes the prerequisites in the right direction, every other association a link)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.case.packages import DOC, association, fractions, item, uid
from zoped.errors import InvalidInput
from zoped.interop.case import case_schema, load_package_file, read_package
from zoped.interop.case_map import map_framework

FIXTURES = Path(__file__).parent / "fixtures"
SCHEMAS = Path(__file__).parents[2] / "zoped" / "interop" / "schemas"


def _problems(error: pytest.ExceptionInfo[InvalidInput]) -> list[str]:
    return [str(p) for p in error.value.problems]


def test_the_vendored_schemas_are_the_files_source_md_names() -> None:
    source = (SCHEMAS / "SOURCE.md").read_text("utf-8")
    for name in ("case-v1p0-cfpackage-schema.json", "case-v1p1-cfpackage-schema.json"):
        digest = hashlib.sha256((SCHEMAS / name).read_bytes()).hexdigest()
        assert digest in source, name
    assert case_schema("1.1")["$id"].startswith("https://purl.imsglobal.org/spec/case/v1p1/")


def test_a_real_opensalt_package_imports_with_its_quirk_reported() -> None:
    package = load_package_file(FIXTURES / "opensalt-sequence-number-framework.json")
    assert package.version == "1.0"
    # Its document identifier has the UUID shape but no RFC 4122 version digit: the 1.0 schema's
    # pattern refuses it; zoped keeps it and says so.
    assert {q.kind for q in package.quirks} == {"identifier-not-rfc4122"}
    assert package.quirks[0].location == "CFDocument.identifier"
    framework = map_framework(package)
    # sequenceNumber orders siblings: the second item in the file comes first.
    assert [c.id for c in framework.competencies] == ["snt.2", "snt.1"]
    assert [c.standard_code for c in framework.competencies] == ["SNT.2", "SNT.1"]


def test_ischildof_builds_the_hierarchy_and_precedes_the_prerequisites() -> None:
    framework = map_framework(read_package(fractions()))
    by_id = {c.id: c for c in framework.competencies}
    assert by_id["nf"].parent is None
    assert {c.parent for c in framework.competencies if c.id != "nf"} == {"nf"}
    # 3.NF.1 precedes 3.NF.2: 3.NF.1 is a prerequisite of 3.NF.2 (not the other way round).
    assert by_id["3.nf.2"].prerequisites == ("3.nf.1",)
    assert by_id["3.nf.3"].prerequisites == ("3.nf.2",)
    assert by_id["3.nf.1"].prerequisites == ()
    assert by_id["3.nf.3"].grade_band == "03-04"
    assert framework.identifiers["3.nf.1"] == uid(2)
    [link] = framework.links
    assert (link.type, link.competency, link.origin) == ("isRelatedTo", "3.nf.3", uid(4))


def test_a_second_parent_and_links_to_other_frameworks_are_kept_as_links() -> None:
    data = fractions()
    data["CFAssociations"].append(association(8, "isChildOf", uid(4), uid(2)))
    data["CFAssociations"].append(association(9, "exactMatchOf", uid(2), uid(77)))
    framework = map_framework(read_package(data))
    assert {c.id: c.parent for c in framework.competencies}["3.nf.3"] == "nf"
    assert [(link.type, link.competency) for link in framework.links] == [
        ("isRelatedTo", "3.nf.3"),
        ("isChildOf", "3.nf.3"),
        ("exactMatchOf", "3.nf.1"),
    ]
    assert any(
        n.kind == "kept-as-link" and n.location == "CFAssociations[7]" for n in framework.notes
    )


def test_the_10_quirks_are_straightened_and_each_reported() -> None:
    data = {"CFPackage": fractions()}
    inner = data["CFPackage"]
    inner["CFAssociations"][2]["sequenceNumber"] = "2"
    inner["CFItems"][1]["lastChangeDateTime"] = "2024-03-01T10:00:00"
    inner["CFItems"][2]["lastChangeDateTime"] = "2024-03-01"
    del inner["CFItems"][3]["uri"]
    del inner["CFAssociations"][4]["lastChangeDateTime"]
    inner["CFItems"][0]["identifier"] = uid(1).upper()
    package = read_package(data)
    found = {(q.location, q.kind) for q in package.quirks}
    assert found >= {
        ("CFPackage", "wrapped"),
        ("CFAssociations[2].sequenceNumber", "number-as-string"),
        ("CFItems[1].lastChangeDateTime", "timestamp-without-zone"),
        ("CFItems[2].lastChangeDateTime", "date-for-date-time"),
        ("CFItems[3].uri", "missing-field"),
        ("CFAssociations[4].lastChangeDateTime", "missing-field"),
        ("CFItems[0].identifier", "identifier-case"),
    }
    assert package.items[1]["lastChangeDateTime"] == "2024-03-01T10:00:00Z"
    assert package.associations[2]["sequenceNumber"] == 2
    # The upper-case identifier is the same item: the hierarchy still finds its children.
    framework = map_framework(package)
    assert [c.parent for c in framework.competencies] == [None, "nf", "nf", "nf"]


def test_a_11_package_is_checked_against_the_11_schema() -> None:
    data = fractions()
    data["CFDocument"]["caseVersion"] = "1.1"
    data["CFItems"][0]["CFDocumentURI"] = {"title": "x", "identifier": DOC, "uri": "u"}
    data["CFAssociations"].append(association(8, "isTranslationOf", uid(2), uid(3)))
    package = read_package(data)
    assert package.version == "1.1"
    assert [q.kind for q in package.quirks] == ["field-of-another-version"]
    # isTranslationOf is a 1.1 type: the 1.0 schema refuses it, at its path.
    with pytest.raises(InvalidInput) as error:
        read_package(data, version="1.0")
    assert any(p.startswith("CFAssociations[7].associationType") for p in _problems(error))


def test_errors_point_at_the_json_path_and_all_are_reported() -> None:
    data = fractions()
    data["CFItems"][2]["identifier"] = "not-a-uuid"
    del data["CFItems"][3]["fullStatement"]
    data["CFAssociations"][1]["associationType"] = "isParentOf"
    data["CFItems"][1]["lastChangeDateTime"] = "last tuesday"
    with pytest.raises(InvalidInput) as error:
        read_package(data, "broken.json")
    problems = _problems(error)
    assert error.value.message == "broken.json: invalid CASE 1.0 package"
    assert "CFItems[2].identifier: 'not-a-uuid' is not a UUID (like " in "\n".join(problems)
    assert "CFItems[3].fullStatement: is required" in problems
    assert any(p.startswith("CFAssociations[1].associationType: 'isParentOf'") for p in problems)
    assert any(p.startswith("CFItems[1].lastChangeDateTime: 'last tuesday'") for p in problems)


def test_duplicate_identifiers_and_prerequisite_cycles_are_located() -> None:
    data = fractions()
    data["CFItems"].append(item(2, "A copy"))
    with pytest.raises(InvalidInput) as error:
        read_package(data)
    assert any(
        p.startswith("CFItems[4].identifier: duplicate identifier") for p in _problems(error)
    )

    data = fractions()
    data["CFAssociations"].append(association(8, "precedes", uid(4), uid(2)))
    with pytest.raises(InvalidInput) as error:
        map_framework(read_package(data))
    problems = _problems(error)
    assert any(p.startswith("CFItems[1].prerequisites") and "cycle" in p for p in problems)
    assert len([p for p in problems if "cycle" in p]) == 3


def test_a_file_that_is_not_json_says_where() -> None:
    path = FIXTURES.parent / "not-json.tmp"
    try:
        path.write_text('{"CFDocument": {\n  "title": oops\n}}', "utf-8")
        with pytest.raises(InvalidInput) as error:
            load_package_file(path)
    finally:
        path.unlink()
    assert _problems(error)[0].startswith("line 2 column 12")


def test_a_deeply_nested_file_is_refused_without_a_stack_trace(tmp_path: Path) -> None:
    for depth in (100, 100_000):  # deep; deeper than Python's recursion limit
        path = tmp_path / f"deep{depth}.json"
        path.write_text('{"CFDocument": ' + "[" * depth + "]" * depth + "}", "utf-8")
        with pytest.raises(InvalidInput, match="nested too deeply"):
            load_package_file(path)
    nested: list[object] = []
    for _ in range(70):
        nested = [nested]
    with pytest.raises(InvalidInput, match="nested too deeply"):
        read_package({"CFDocument": {"extensions": {"a": nested}}})


def test_items_without_codes_and_with_sequential_identifiers_get_distinct_slugs() -> None:
    data = fractions()
    for entry in data["CFItems"]:
        del entry["humanCodingScheme"]
    ids = [c.id for c in map_framework(read_package(data)).competencies]
    # The identifiers differ only at the end: the first 8 digits name the first item only.
    assert ids == ["case-0000000a", "case-000000000002", "case-000000000003", "case-000000000004"]


def test_long_titles_and_odd_languages_fit_the_store() -> None:
    data = fractions()
    data["CFDocument"]["title"] = "Standards " * 60
    data["CFDocument"]["language"] = "en-" + "-".join(["abcdefgh"] * 5)
    data["CFItems"][1]["abbreviatedStatement"] = "x" * 400
    framework = map_framework(read_package(data))
    assert len(framework.title) == 300
    assert framework.language == "en"
    assert any(n.kind == "language" for n in framework.notes)
    assert len(framework.competencies[1].title) == 300


def test_slugs_are_stable_and_avoid_taken_ids() -> None:
    package = read_package(fractions())
    first = map_framework(package)
    # Another course of the school holds "3.nf.1": the new item takes a suffixed id.
    other = map_framework(package, taken={"3.nf.1"})
    assert {c.id for c in other.competencies} - {c.id for c in first.competencies} == {
        "3.nf.1-0000000a"
    }
    # A re-import keeps the ids it had, even when the codes change.
    data = fractions()
    data["CFItems"][1]["humanCodingScheme"] = "3.NF.A.1"
    again = map_framework(read_package(data), known={v: k for k, v in first.identifiers.items()})
    assert [c.id for c in again.competencies] == [c.id for c in first.competencies]
    assert json.dumps(again.record)  # the record is JSON as it is
