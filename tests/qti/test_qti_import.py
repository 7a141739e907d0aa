"""``zoped import qti`` and ``zoped export qti``: all or nothing, idempotent by item
identifier, tagged through metadata or a mapping file, and a round trip back to the same items
(the demo course's included)."""

from __future__ import annotations

import dataclasses
import zipfile
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from tests.factories import T0
from tests.qti.helpers import MAPPING, fixture_package, package, school_database
from zoped.cli import course as course_cli
from zoped.cli import exports as exports_cli
from zoped.cli import imports as imports_cli
from zoped.domain import School
from zoped.domain.content import ItemType, Modality
from zoped.errors import Conflict, InvalidInput
from zoped.interop.course_file import load_course_file
from zoped.interop.qti import QtiItem, read_qti
from zoped.interop.qti_write import write_package
from zoped.services.courses import get_course, import_course
from zoped.services.qti_import import export_qti, import_qti
from zoped.services.roster import create_school
from zoped.services.system import open_database

runner = CliRunner()
app = typer.Typer()
course_cli.register(app)
exports_cli.register(app)
imports_cli.register(app)

DEMO = Path(__file__).parents[2] / "zoped" / "content" / "demo_course.yaml"


def course_items(url: str, key: str = "lit"):
    database = open_database(url, migrate=False)
    try:
        with database.session() as session:
            return get_course(session, course_id=key).items
    finally:
        database.dispose()


def import_args(archive: Path, mapping: Path) -> list[str]:
    return ["import", "qti", str(archive), "--course", "lit", "--mapping", str(mapping)]


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    archive = tmp_path / "examples.zip"
    archive.write_bytes(fixture_package())
    mapping = tmp_path / "map.csv"
    mapping.write_text(MAPPING, encoding="utf-8")
    return archive, mapping


def test_a_package_imports_once_and_again_changes_nothing(tmp_path: Path, files) -> None:
    url = school_database(tmp_path)
    archive, mapping = files
    command = ["import", "qti", str(archive), "--course", "lit", "--mapping", str(mapping)]
    first = runner.invoke(app, [*command, "--db", url])
    assert first.exit_code == 0, first.output
    assert first.output.startswith(
        "imported into course lit of school hill: 9 added, 0 updated, 0 unchanged"
    )
    items = {i.id: i for i in course_items(url)}
    assert len(items) == 9  # the course's own item and eight examples (one is a project)
    assert items["match"].type is ItemType.MATCHING
    assert items["match"].competencies == ("lit.plays",)
    assert items["gapmatch"].competencies == ("lit.quotes",)
    again = runner.invoke(app, [*command, "--db", url])
    assert again.exit_code == 0, again.output
    assert "0 added, 0 updated, 9 unchanged" in again.output
    assert again.output.splitlines()[-1] == "nothing changed"
    assert course_items(url) == tuple(items.values())


def test_extended_text_becomes_a_project_a_teacher_scores_with_a_rubric(
    tmp_path: Path, files
) -> None:
    url = school_database(tmp_path)
    archive, mapping = files
    assert runner.invoke(app, [*import_args(archive, mapping), "--db", url]).exit_code == 0
    database = open_database(url, migrate=False)
    try:
        with database.session() as session:
            course = get_course(session, course_id="lit")
    finally:
        database.dispose()
    project = course.activity("itm-extended_text")
    assert (project.title, project.modality, project.competencies) == (
        "Writing a Postcard",
        Modality.PROJECT,
        ("general",),
    )
    assert project.body is not None
    assert project.body.endswith("Write 25-35 words.")
    rubric = course.rubric(project.rubric_id or "")
    (criterion,) = rubric.criteria
    assert criterion.competencies == ("general",)
    assert [level.points for level in criterion.levels] == [0, 1, 2, 3, 4]
    assert criterion.levels[4].title == "4 of 4 points"


def test_a_dry_run_writes_nothing(tmp_path: Path, files) -> None:
    url = school_database(tmp_path)
    archive, mapping = files
    result = runner.invoke(app, [*import_args(archive, mapping), "--dry-run", "--db", url])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("would import into course lit of school hill: 9 added")
    assert len(course_items(url)) == 1


def test_an_untagged_item_is_named_and_nothing_is_written(tmp_path: Path, files) -> None:
    url = school_database(tmp_path)
    archive, mapping = files
    mapping.write_text(MAPPING.replace("order,general\n", ""), encoding="utf-8")
    result = runner.invoke(app, [*import_args(archive, mapping), "--db", url])
    assert result.exit_code == 2
    assert "examples.zip: qti3/order.xml line 3: item order is tagged to no competency" in (
        result.output
    )
    assert len(course_items(url)) == 1


def test_a_mapping_to_an_unknown_competency_is_refused_and_to_an_unknown_item_noted(
    tmp_path: Path, files
) -> None:
    url = school_database(tmp_path)
    archive, mapping = files
    mapping.write_text(MAPPING + "order,lit.ghost\nnot-there,general\n", encoding="utf-8")
    result = runner.invoke(app, [*import_args(archive, mapping), "--db", url])
    assert result.exit_code == 2
    assert "map.csv: item order is mapped to 'lit.ghost'" in result.output
    mapping.write_text(MAPPING + "not-there,general\n", encoding="utf-8")
    noted = runner.invoke(app, [*import_args(archive, mapping), "--dry-run", "--db", url])
    assert noted.exit_code == 0, noted.output
    assert "warning: map.csv: item not-there is mapped but is not in the file" in noted.output
    mapping.write_text("choice\n", encoding="utf-8")
    broken = runner.invoke(app, [*import_args(archive, mapping), "--db", url])
    assert "map.csv line 1: expected: item identifier, competency id" in broken.output
    assert len(course_items(url)) == 1


def test_one_broken_item_keeps_the_whole_package_out(tmp_path: Path, files) -> None:
    url = school_database(tmp_path)
    _, mapping = files
    good = (Path(__file__).parent / "fixtures" / "qti3" / "choice.xml").read_text("utf-8")
    broken = good.replace('identifier="choice"', 'identifier="order"').replace(
        "<qti-response-processing", "<qti-response-processingX"
    )
    archive = tmp_path / "two.zip"
    archive.write_bytes(package({"a.xml": good, "b.xml": broken}))
    result = runner.invoke(app, [*import_args(archive, mapping), "--db", url])
    assert result.exit_code == 2
    assert "two.zip: b.xml line " in result.output
    assert len(course_items(url)) == 1


def test_metadata_tags_items_and_a_changed_item_needs_yes(tmp_path: Path) -> None:
    url = school_database(tmp_path)
    item = (Path(__file__).parent / "fixtures" / "qti3" / "choice.xml").read_text("utf-8")
    manifest = """<manifest xmlns="http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1"
      xmlns:csm="http://www.imsglobal.org/xsd/imscsmd_v1p0" identifier="m"><resources>
      <resource identifier="r" type="imsqti_item_xmlv3p0" href="items/choice.xml"><metadata>
        <csm:curriculumStandardsMetadataSet><csm:curriculumStandardsMetadata>
          <csm:setOfGUIDs><csm:labelledGUID><csm:GUID>ELA.Q.1</csm:GUID></csm:labelledGUID>
          <csm:labelledGUID><csm:GUID>unknown-guid</csm:GUID></csm:labelledGUID></csm:setOfGUIDs>
        </csm:curriculumStandardsMetadata></csm:curriculumStandardsMetadataSet>
      </metadata><file href="items/choice.xml"/></resource></resources></manifest>"""
    sign = {"img/sign.png": (Path(__file__).parent / "fixtures" / "img" / "sign.png").read_bytes()}
    archive = tmp_path / "one.zip"
    archive.write_bytes(package({"items/choice.xml": item, **sign}, manifest=manifest))
    database = open_database(url, migrate=False)
    try:
        with database.session() as session:
            summary = import_qti(session, source=archive, course_code="lit", now=T0)
            assert summary.added == ("choice",)
            assert summary.warnings == (
                "item choice: its metadata names 'unknown-guid', which is no competency of "
                "course 'lit'",
            )
            stored = get_course(session, course_id="lit").item("choice")
            assert stored.competencies == ("lit.quotes",)  # by the competency's standard code
            changed = item.replace("What does it say?", "What?")
            archive.write_bytes(package({"items/choice.xml": changed, **sign}, manifest=manifest))
            with pytest.raises(Conflict, match="changes 1 items already in course 'lit'"):
                import_qti(session, source=archive, course_code="lit", now=T0)
            assert get_course(session, course_id="lit").item("choice") == stored
            summary = import_qti(session, source=archive, course_code="lit", now=T0, confirm=True)
            assert summary.updated == ("choice",)
            assert get_course(session, course_id="lit").item("choice").stem.endswith("What?")
    finally:
        database.dispose()


def test_two_schools_with_the_code_need_the_school_named(tmp_path: Path, files) -> None:
    url = school_database(tmp_path)
    database = open_database(url, migrate=False)
    try:
        with database.session() as session:
            create_school(session, school=School("vale", "Vale School"), now=T0)
            lit = get_course(session, course_id="lit")
            import_course(
                session, course=dataclasses.replace(lit, id="lit"), now=T0, school_id="vale"
            )
            with pytest.raises(InvalidInput, match="which school"):
                import_qti(session, source=files[0], course_code="lit", now=T0, mapping=files[1])
    finally:
        database.dispose()


def test_the_demo_course_round_trips_through_a_qti_package(tmp_path: Path) -> None:
    course = load_course_file(DEMO)
    archive = tmp_path / "demo.zip"
    archive.write_bytes(write_package(course))
    back = [q for q in read_qti(archive) if isinstance(q, QtiItem)]
    assert len(back) == len(read_qti(archive))
    assert [dataclasses.replace(q.item, competencies=q.references) for q in back] == list(
        course.items
    )
    assert write_package(course) == archive.read_bytes()  # the same bytes every time


def test_export_then_import_into_the_same_course_changes_nothing(tmp_path: Path, files) -> None:
    url = school_database(tmp_path)
    archive, mapping = files
    imported = runner.invoke(app, [*import_args(archive, mapping), "--db", url])
    assert imported.exit_code == 0, imported.output
    out = tmp_path / "lit.zip"
    exported = runner.invoke(app, ["export", "qti", "--course", "lit", "-o", str(out), "--db", url])
    assert exported.exit_code == 0, exported.output
    assert exported.output.startswith(f"wrote {out}")
    again = runner.invoke(app, ["import", "qti", str(out), "--course", "lit", "--db", url])
    assert again.exit_code == 0, again.output
    # Nine items and the project the extended text item became, all as they were.
    assert "0 added, 0 updated, 10 unchanged" in again.output
    with zipfile.ZipFile(out) as archive_back:
        names = archive_back.namelist()
    assert "projects/itm-extended_text.xml" in names
    # the manifest, the items, the project, and the pictures of the choice item and the project
    assert len(names) == 1 + 9 + 1 + 2
    assert sum(name.startswith("media/") for name in names) == 2
    database = open_database(url, migrate=False)
    try:
        with database.session() as session:
            data = export_qti(session, course_code="lit", now=T0)
    finally:
        database.dispose()
    assert data == out.read_bytes()


def test_lom_classification_tags_where_it_names_a_competency_and_is_quiet_otherwise(
    tmp_path: Path,
) -> None:
    url = school_database(tmp_path)
    item = (Path(__file__).parent / "fixtures" / "qti3" / "order.xml").read_text("utf-8")
    # Shaped like Cito's packages: curriculum codes, several in one entry, beside reviewers.
    manifest = """<manifest xmlns="http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1"
      xmlns:imsmd="http://ltsc.ieee.org/xsd/LOM" identifier="m"><resources>
      <resource identifier="ITM-order" type="imsqti_item_xmlv3p0" href="order.xml"><metadata>
        <imsmd:lom><imsmd:classification><imsmd:taxonPath>
          <imsmd:source><imsmd:string>02-Uitsluitingen</imsmd:string></imsmd:source>
          <imsmd:taxon><imsmd:entry><imsmd:string>K04-04;ELA.Q.1</imsmd:string></imsmd:entry>
          </imsmd:taxon></imsmd:taxonPath></imsmd:classification>
        <imsmd:classification><imsmd:taxonPath>
          <imsmd:source><imsmd:string>05-Interne screening</imsmd:string></imsmd:source>
          <imsmd:taxon><imsmd:id>ja</imsmd:id><imsmd:entry><imsmd:string>Annette Will
          </imsmd:string></imsmd:entry></imsmd:taxon></imsmd:taxonPath></imsmd:classification>
        </imsmd:lom></metadata><file href="order.xml"/></resource></resources></manifest>"""
    archive = tmp_path / "cito.zip"
    archive.write_bytes(package({"order.xml": item}, manifest=manifest))
    database = open_database(url, migrate=False)
    try:
        with database.session() as session:
            summary = import_qti(session, source=archive, course_code="lit", now=T0)
            assert (summary.added, summary.warnings) == (("order",), ())
            assert get_course(session, course_id="lit").item("order").competencies == (
                "lit.quotes",
            )
    finally:
        database.dispose()
