"""Reading OneRoster 1.2 CSV bundles: the specification's tables, and every problem located.

Bundles are written by ``tests/oneroster_bundles.py`` with the headers of the specification's
tables (not zoped's), so a drift between zoped's reading and the specification fails here.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, date, datetime, timedelta

import pytest

from tests import oneroster_bundles as ob
from zoped.errors import InvalidInput
from zoped.interop import oneroster as orr
from zoped.interop import oneroster_files
from zoped.interop.oneroster import (
    FileMode,
    RecordStatus,
    parse_bundle,
    read_bundle,
    reference_problems,
)
from zoped.interop.oneroster_files import parse_date, parse_datetime
from zoped.interop.oneroster_tables import TABLE_OF_KIND


def problems_of(bundle: ob.Bundle, **kwargs) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        read_bundle(bundle.zip_bytes(), **kwargs)
    return [str(p) for p in caught.value.problems]


def warnings_of(bundle: ob.Bundle) -> list[str]:
    found = parse_bundle(bundle.zip_bytes())
    assert found.problems == []
    return [str(w) for w in found.bundle.warnings]


# --- the specification's tables -----------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "header"),
    [
        ("org", ob.ORGS),
        ("academicSession", ob.ACADEMIC_SESSIONS),
        ("course", ob.COURSES),
        ("class", ob.CLASSES),
        ("role", ob.ROLES),
        ("enrollment", ob.ENROLLMENTS),
    ],
)
def test_zoped_reads_each_file_with_the_specifications_columns_in_order(kind, header) -> None:
    assert tuple(c.name for c in TABLE_OF_KIND[kind].columns) == header


def test_users_have_the_1_2_columns_in_order_then_the_1_1_ones() -> None:
    names = tuple(c.name for c in TABLE_OF_KIND["user"].columns)
    assert names[: len(ob.USERS)] == ob.USERS
    assert set(names[len(ob.USERS) :]) == {"orgSourcedIds", "role"}


def test_the_required_columns_are_the_specifications() -> None:
    required = {
        kind: {c.name for c in table.columns if c.required} for kind, table in TABLE_OF_KIND.items()
    }
    assert required == {
        "org": {"sourcedId", "name", "type"},
        "academicSession": {"sourcedId", "title", "type", "startDate", "endDate", "schoolYear"},
        "course": {"sourcedId", "title", "orgSourcedId"},
        "class": {
            "sourcedId",
            "title",
            "courseSourcedId",
            "classType",
            "schoolSourcedId",
            "termSourcedIds",
        },
        "user": {"sourcedId", "enabledUser", "username", "givenName", "familyName"},
        "role": {"sourcedId", "userSourcedId", "roleType", "role", "orgSourcedId"},
        "enrollment": {"sourcedId", "classSourcedId", "schoolSourcedId", "userSourcedId", "role"},
    }


def test_a_bulk_bundle_reads_every_record_with_typed_values() -> None:
    bundle = read_bundle(ob.school_bundle().zip_bytes())
    assert bundle.oneroster_version == "1.2"
    assert set(bundle.modes.values()) == {FileMode.BULK}
    assert [o.type for o in bundle.orgs] == ["district", "school"]
    assert [o.sourced_id for o in bundle.school_orgs()] == ["s1"]
    fall = bundle.academic_sessions[1]
    assert (fall.type, fall.start_date, fall.end_date, fall.school_year) == (
        "term",
        date(2026, 8, 1),
        date(2026, 12, 20),
        2027,
    )
    assert fall.parent_sourced_id == "y2027"
    math_a = bundle.classes[0]
    assert math_a.term_sourced_ids == ("fall",)
    assert math_a.data["periods"] == ["1", "2"]
    ana = next(u for u in bundle.users if u.username == "ana")
    assert ana.display_name == "Annie Lopez"  # the preferred given name wins
    assert ana.agent_sourced_ids == ("u-carla",)
    assert ana.password == "ana-likes-maths-26"
    assert [(r.role, r.primary) for r in bundle.roles][:2] == [("teacher", True), ("student", True)]
    assert [e.primary for e in bundle.enrollments][:2] == [True, None]
    assert all(r.status is RecordStatus.ACTIVE and r.active for r in bundle.users)
    assert bundle.warnings == ()


def test_what_an_import_keeps_leaves_out_passwords_and_contact_details() -> None:
    bundle = read_bundle(ob.school_bundle().zip_bytes())
    rivera, ana = bundle.users[:2]
    assert "password" not in ana.data
    assert "phone" not in rivera.data
    assert "userIds" not in rivera.data
    assert rivera.data["email"] == "rivera@hill.example.org"
    assert "ana-likes-maths-26" not in repr(ana)


def test_a_folder_a_zip_file_and_a_zipped_folder_read_the_same(tmp_path) -> None:
    school = ob.school_bundle()
    from_bytes = read_bundle(school.zip_bytes())
    folder = school.write(tmp_path / "export")
    archive = tmp_path / "export.zip"
    archive.write_bytes(school.zip_bytes(folder="SIS export 2026/"))
    assert read_bundle(folder) == from_bytes
    assert read_bundle(archive) == from_bytes


def test_a_oneroster_1_1_bundle_gives_roles_in_users_csv() -> None:
    users = ob.csv_text(
        ob.USERS_1_1,
        [
            {
                "sourcedId": "u-rivera",
                "enabledUser": "true",
                "orgSourcedIds": "s1",
                "role": "teacher",
                "username": "rivera",
                "givenName": "Maria",
                "familyName": "Rivera",
            },
            {
                "sourcedId": "u-ana",
                "enabledUser": "true",
                "orgSourcedIds": "s1",
                "role": "student",
                "username": "ana",
                "givenName": "Ana",
                "familyName": "Lopez",
            },
        ],
    )
    school = ob.school_bundle()
    modes = dict.fromkeys(("orgs", "academicSessions", "courses", "classes", "users"), "bulk")
    bundle = read_bundle(
        school.with_file("users.csv", users)
        .with_file("roles.csv", None)
        .with_file("enrollments.csv", None)
        .with_file("manifest.csv", ob.manifest_text(modes, version="1.1"))
        .zip_bytes()
    )
    assert bundle.oneroster_version == "1.1"
    assert bundle.modes["role"] is FileMode.BULK
    assert [(r.sourced_id, r.user_sourced_id, r.role, r.org_sourced_id) for r in bundle.roles] == [
        ("u-rivera#role", "u-rivera", "teacher", "s1"),
        ("u-ana#role", "u-ana", "student", "s1"),
    ]


# --- the manifest -------------------------------------------------------------------------


def test_a_bundle_without_a_manifest_is_refused() -> None:
    assert problems_of(ob.school_bundle().with_file("manifest.csv", None)) == [
        "manifest.csv: the bundle has no manifest.csv (every OneRoster bundle starts with one)"
    ]


def test_manifest_values_are_checked_and_located() -> None:
    manifest = ob.school_bundle().files["manifest.csv"]
    broken = (
        manifest.replace("oneroster.version,1.2", "oneroster.version,2.0")
        .replace("file.classes,bulk", "file.classes,full")
        .replace("file.lineItems,absent", "file.lineItems,bulk")
    )
    lines = broken.splitlines()
    assert problems_of(ob.school_bundle().with_file("manifest.csv", broken)) == [
        f"manifest.csv line {lines.index('oneroster.version,2.0') + 1} column value: "
        "oneroster.version '2.0' is not supported (zoped reads 1.1, 1.2)",
        f"manifest.csv line {lines.index('file.classes,full') + 1} column value: "
        "file.classes is 'full'; it must be bulk, delta or absent",
        f"manifest.csv line {lines.index('file.lineItems,bulk') + 1} column value: "
        "file.lineItems is bulk but the bundle has no lineItems.csv",
    ]


def test_empty_manifest_values_are_absent_and_case_does_not_matter() -> None:
    school = ob.school_bundle()
    manifest = (
        school.files["manifest.csv"]
        .replace("file.users,bulk", "file.users,BULK")
        .replace("file.enrollments,bulk", "file.enrollments,")
        .replace("manifest.version,1.0", "manifest.version,")
    )
    found = parse_bundle(school.with_file("manifest.csv", manifest).zip_bytes())
    assert found.problems == []
    assert found.bundle.modes["user"] is FileMode.BULK
    assert "enrollment" not in found.bundle.modes
    warnings = [str(w) for w in found.bundle.warnings]
    assert any("manifest.version is not given; read as 1.0" in w for w in warnings)
    assert any(
        "file.enrollments has no value: read as absent, so enrollments.csv is ignored" in w
        for w in warnings
    )
    assert "enrollments.csv: the manifest does not give it as bulk or delta; ignored" in warnings


def test_other_files_are_ignored_and_reported() -> None:
    school = (
        ob.school_bundle()
        .with_file("demographics.csv", "sourcedId,status,dateLastModified,birthDate\nu-ana,,,\n")
        .with_file("userProfiles.csv", "sourcedId\np1\n")
        .with_file("README.txt", "exported by the SIS")
    )
    manifest = school.files["manifest.csv"].replace(
        "file.demographics,absent", "file.demographics,bulk"
    )
    assert warnings_of(school.with_file("manifest.csv", manifest)) == [
        "demographics.csv: zoped does not import this OneRoster file; ignored",
        "README.txt: not a file of the manifest; ignored",
        "userProfiles.csv: zoped does not import this OneRoster file; ignored",
    ]


# --- headers ------------------------------------------------------------------------------


def test_headers_match_ignoring_case_spaces_order_and_a_byte_order_mark() -> None:
    school = ob.school_bundle()
    users = school.files["users.csv"]
    header, rest = users.split("\n", 1)
    columns = header.split(",")
    messy = [f" {c.upper()} " if i % 2 else c.lower() for i, c in enumerate(columns)]
    messy[0], messy[1] = messy[1], messy[0]
    rows = [line.split(",") for line in rest.splitlines()]
    swapped = "\n".join(",".join([r[1], r[0], *r[2:]]) for r in rows)
    text = "\ufeff" + ",".join(messy) + "\n" + swapped + "\n"
    assert read_bundle(school.with_file("users.csv", text).zip_bytes()) == read_bundle(
        school.zip_bytes()
    )


def test_a_misspelled_header_is_a_located_problem_that_names_the_column_meant() -> None:
    broken = ob.school_bundle().edit("users.csv", "givenName", "givneName")
    assert problems_of(broken) == [
        "users.csv line 1 column givneName: unknown column 'givneName': did you mean 'givenName'?"
    ]


def test_unknown_and_extension_columns() -> None:
    school = ob.school_bundle()
    users = school.files["users.csv"]
    header, rest = users.split("\n", 1)
    rows = "\n".join(line + ",x,y" for line in rest.splitlines())
    text = f"{header},metadata.house,favouriteColour\n{rows}\n"
    assert warnings_of(school.with_file("users.csv", text)) == [
        "users.csv line 1 column favouriteColour: not a column of users.csv; ignored"
    ]


def test_missing_and_duplicate_columns_are_problems() -> None:
    school = ob.school_bundle()
    assert problems_of(school.edit("orgs.csv", "dateLastModified,name,", "dateLastModified,")) == [
        "orgs.csv line 1: the required column 'name' is missing"
    ]
    assert problems_of(school.edit("orgs.csv", "identifier,", "type,")) == [
        "orgs.csv line 1 column type: the column is named twice (columns 5 and 6)"
    ]


# --- cells --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-09-01", date(2026, 9, 1)),
        ("2026/09/01", date(2026, 9, 1)),
        ("2026.9.1", date(2026, 9, 1)),
        ("2026-09-01T00:00:00Z", date(2026, 9, 1)),
    ],
)
def test_dates_in_iso_form_and_year_first_forms(text, expected) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("9/1/2026", "'9/1/2026' is ambiguous (1 September or 9 January 2026?)"),
        ("01.09.2026", "'01.09.2026' is ambiguous (9 January or 1 September 2026?)"),
        ("13/9/2026", "'13/9/2026' is not in the form YYYY-MM-DD (write 2026-09-13)"),
        ("5/5/2026", "'5/5/2026' is not in the form YYYY-MM-DD (write 2026-05-05)"),
        ("Sept 1 2026", "'Sept 1 2026' is not a date in the form YYYY-MM-DD"),
        ("2026-02-30", "'2026-02-30' is not a date that exists"),
        ("2026-09-01T08:00:00Z", "is a date and time; this column takes a date"),
    ],
)
def test_other_dates_are_refused_not_guessed(text, message) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_date(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-09-01T08:00:00.000Z", datetime(2026, 9, 1, 8, tzinfo=UTC)),
        ("2026-09-01T08:00:00Z", datetime(2026, 9, 1, 8, tzinfo=UTC)),
        ("2026-09-01T10:00:00+02:00", datetime(2026, 9, 1, 8, tzinfo=UTC)),
        ("2026-09-01T08:00:00", datetime(2026, 9, 1, 8, tzinfo=UTC)),
        ("2026-09-01 08:00:00", datetime(2026, 9, 1, 8, tzinfo=UTC)),
        ("2026-09-01", datetime(2026, 9, 1, tzinfo=UTC)),
    ],
)
def test_instants_are_iso_8601_in_utc(text, expected) -> None:
    found = parse_datetime(text)
    assert found == expected
    assert found.utcoffset() == timedelta(0)


def test_instants_in_other_forms_are_refused() -> None:
    with pytest.raises(ValueError, match="ambiguous"):
        parse_datetime("9/1/2026 08:00")
    with pytest.raises(ValueError, match="not an ISO 8601 date and time"):
        parse_datetime("yesterday")
    with pytest.raises(ValueError, match="not an instant that exists in UTC"):
        parse_datetime("0001-01-01T00:00:00+14:00")
    assert parse_datetime("2026-09-01T08:00:00-05:00").tzinfo == UTC


def test_cells_are_checked_and_every_problem_located() -> None:
    school = (
        ob.school_bundle()
        .edit("academicSessions.csv", "2026-08-01,2026-12-20", "9/1/2026,2026-12-20")
        .edit("academicSessions.csv", ",2027\n", ",27\n")
        .edit("classes.csv", "MA5-A,scheduled", "MA5-A,sheduled")
        .edit("roles.csv", "primary,student", "primary,learner")
        .edit("users.csv", "u-ben,,,true", "u-ben,,,yes")
        .edit("users.csv", "u-head,,,true,head", "u-head,,,true,head teacher")
        .edit("users.csv", "rivera@hill.example.org", "rivera at hill")
    )
    assert problems_of(school) == [
        "academicSessions.csv line 2 column schoolYear: '27' is not a year (YYYY, the year the "
        "school year ends)",
        "academicSessions.csv line 3 column startDate: '9/1/2026' is ambiguous "
        "(1 September or 9 January 2026?); write dates as YYYY-MM-DD",
        "academicSessions.csv line 3 column schoolYear: '27' is not a year (YYYY, the year the "
        "school year ends)",
        "users.csv line 2 column email: 'rivera at hill' is not an email address",
        "users.csv line 4 column enabledUser: 'yes' is not true or false",
        "users.csv line 6 column username: 'head teacher' is not a username zoped accepts (up "
        "to 64 letters, digits and . _ @ -, starting with a letter or digit)",
        "roles.csv line 3 column role: 'learner' is not one of: administrator, aide, counselor, "
        "districtAdministrator, guardian, parent, principal, proctor, relative, "
        "siteAdministrator, student, systemAdministrator, teacher",
        "roles.csv line 4 column role: 'learner' is not one of: administrator, aide, counselor, "
        "districtAdministrator, guardian, parent, principal, proctor, relative, "
        "siteAdministrator, student, systemAdministrator, teacher",
        "classes.csv line 2 column classType: 'sheduled' is not one of: homeroom, scheduled "
        "(did you mean 'scheduled'?)",
    ]


def test_enumerations_ignore_case_and_take_extension_values() -> None:
    school = (
        ob.school_bundle()
        .edit("roles.csv", "primary,student", "Primary,Student")
        .edit("roles.csv", "primary,parent", "primary,ext:grandparent")
        .edit("orgs.csv", "district", "DISTRICT")
    )
    bundle = read_bundle(school.zip_bytes())
    assert [r.role for r in bundle.roles][1:4] == ["student", "student", "ext:grandparent"]
    assert bundle.roles[1].role_type == "primary"
    assert bundle.orgs[0].type == "district"


def test_required_values_rows_and_duplicates() -> None:
    school = (
        ob.school_bundle()
        .edit("users.csv", "Ben,Okafor", ",Okafor")
        .edit("classes.csv", "math5-b,,,Math 5 B", "math5-a,,,Math 5 B")
        .edit("users.csv", "u-head,,,true,head", "u-head,,,true,ben")
        .edit(
            "roles.csv", "r-head,,,u-head,primary,siteAdministrator,,,s1,", "r-x,,,u-x,p,x,,,s1,,,"
        )
    )
    assert problems_of(school) == [
        "users.csv line 4 column givenName: is required but empty",
        "roles.csv line 6: has 12 values but the header names 10 columns",
        "classes.csv line 3 column sourcedId: 'math5-a' is also on line 2",
        "enrollments.csv line 5 column classSourcedId: no class 'math5-b' in classes.csv",
        "enrollments.csv line 6 column classSourcedId: no class 'math5-b' in classes.csv",
    ]


def test_active_users_may_not_share_a_username_or_an_email() -> None:
    school = ob.school_bundle().edit("users.csv", "u-head,,,true,head", "u-head,,,true,ana")
    assert problems_of(school) == [
        "users.csv line 6 column username: 'ana' is also the username of users.csv line 3"
    ]


def test_a_short_row_reads_its_missing_trailing_cells_as_blank() -> None:
    school = ob.school_bundle()
    orgs = school.files["orgs.csv"].replace(
        "Springfield District,district,,", "Springfield District,district"
    )
    assert read_bundle(school.with_file("orgs.csv", orgs).zip_bytes()).orgs[0].name == (
        "Springfield District"
    )


def test_a_file_with_a_header_and_no_records_is_refused() -> None:
    school = ob.school_bundle().with_file("enrollments.csv", ",".join(ob.ENROLLMENTS) + "\n")
    assert problems_of(school) == [
        "enrollments.csv: has no records (a file with nothing to say is marked absent in the "
        "manifest)"
    ]


def test_text_that_is_not_utf_8_is_located_by_line() -> None:
    school = ob.school_bundle()
    data = school.files["users.csv"].encode("utf-8").replace(b"Okafor", b"Ok\xe1for")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in school.files.items():
            archive.writestr(name, data if name == "users.csv" else text.encode())
    with pytest.raises(InvalidInput) as caught:
        read_bundle(buffer.getvalue())
    assert [str(p) for p in caught.value.problems] == [
        "users.csv line 4: is not UTF-8 text (save the file as CSV UTF-8; the specification "
        "requires it)"
    ]


# --- delta bundles ------------------------------------------------------------------------


def test_a_delta_file_gives_each_records_status_and_time() -> None:
    delta = ob.delta_bundle(
        {
            "users": (
                ob.USERS,
                [
                    {
                        "sourcedId": "u-ben",
                        "status": "tobedeleted",
                        "enabledUser": "true",
                        "username": "ben",
                        "givenName": "Ben",
                        "familyName": "Okafor",
                    },
                    {
                        "sourcedId": "u-dan",
                        "status": "",
                        "dateLastModified": "",
                        "enabledUser": "true",
                        "username": "dan",
                        "givenName": "Dan",
                        "familyName": "Wu",
                    },
                ],
            )
        }
    )
    assert problems_of(delta) == [
        "users.csv line 3 column status: is required in a delta file but empty",
        "users.csv line 3 column dateLastModified: is required in a delta file but empty",
    ]
    fixed = delta.edit("users.csv", "u-dan,,,", f"u-dan,active,{ob.MODIFIED},")
    bundle = read_bundle(fixed.zip_bytes())
    assert bundle.modes == {"user": FileMode.DELTA}
    assert [u.status for u in bundle.users] == [RecordStatus.TO_BE_DELETED, RecordStatus.ACTIVE]
    assert bundle.users[1].date_last_modified == datetime(2026, 8, 20, 8, tzinfo=UTC)


def test_a_delta_file_must_have_the_status_columns() -> None:
    delta = ob.Bundle(
        {
            "manifest.csv": ob.manifest_text({"orgs": "delta"}),
            "orgs.csv": "sourcedId,name,type\ns9,New School,school\n",
        }
    )
    assert problems_of(delta) == [
        "orgs.csv line 1: the column 'status' is missing (a delta file gives it for every record)",
        "orgs.csv line 1: the column 'dateLastModified' is missing (a delta file gives it for "
        "every record)",
    ]


def test_a_delta_may_name_records_of_earlier_imports_but_not_of_a_bulk_file() -> None:
    delta = ob.delta_bundle(
        {
            "enrollments": (
                ob.ENROLLMENTS,
                [
                    {
                        "sourcedId": "e9",
                        "classSourcedId": "math5-a",
                        "schoolSourcedId": "s1",
                        "userSourcedId": "u-dan",
                        "role": "student",
                    }
                ],
            )
        }
    )
    assert problems_of(delta) == [
        "enrollments.csv line 2 column classSourcedId: no class 'math5-a' in classes.csv or an "
        "earlier import",
        "enrollments.csv line 2 column schoolSourcedId: no org 's1' in orgs.csv or an earlier "
        "import",
        "enrollments.csv line 2 column userSourcedId: no user 'u-dan' in users.csv or an "
        "earlier import",
    ]
    known = {"class": {"math5-a"}, "org": {"s1"}, "user": {"u-dan"}}
    assert read_bundle(delta.zip_bytes(), known=known).enrollments[0].user_sourced_id == "u-dan"
    # A bulk users file is the whole list of users: an earlier import's users do not count.
    bulk_users = ob.school_bundle().files["users.csv"]
    with_users = delta.with_file("users.csv", bulk_users).with_file(
        "manifest.csv", ob.manifest_text({"enrollments": "delta", "users": "bulk"})
    )
    assert problems_of(with_users, known=known) == [
        "enrollments.csv line 2 column userSourcedId: no user 'u-dan' in users.csv"
    ]


def test_references_of_the_whole_bundle_are_checked() -> None:
    school = (
        ob.school_bundle()
        .edit("enrollments.csv", "e2,,,math5-a", "e2,,,math5-z")
        .edit("classes.csv", "MA5-A,scheduled,Room 12,s1", "MA5-A,scheduled,Room 12,s2")
        .edit("users.csv", "u-carla,,,true", "u-carla,,,true")
        .edit("users.csv", "Ana,Lopez,,,,,,u-carla", "Ana,Lopez,,,,,,u-carlos")
    )
    assert problems_of(school) == [
        "users.csv line 3 column agentSourcedIds: no user 'u-carlos' in users.csv",
        "classes.csv line 2 column schoolSourcedId: no org 's2' in orgs.csv",
        "enrollments.csv line 3 column classSourcedId: no class 'math5-z' in classes.csv",
    ]


def test_a_reference_to_a_row_with_its_own_problem_is_not_reported_twice() -> None:
    school = ob.school_bundle().edit("classes.csv", "Math 5 B,,math5", "Math 5 B,,math5,x")
    problems = problems_of(school)
    assert problems == ["classes.csv line 3: has 15 values but the header names 14 columns"]
    found = parse_bundle(school.zip_bytes())
    assert "math5-b" in found.listed["class"]
    assert reference_problems(found.bundle, listed=found.listed) == []


# --- the archive --------------------------------------------------------------------------


def test_paths_that_leave_the_archive_are_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in ob.school_bundle().files.items():
            archive.writestr(name, text)
        archive.writestr("../../etc/cron.d/evil.csv", "x")
    with pytest.raises(InvalidInput) as caught:
        read_bundle(buffer.getvalue())
    assert [str(p) for p in caught.value.problems] == [
        "../../etc/cron.d/evil.csv: a path that leaves the archive's folder is refused"
    ]


def test_an_archive_past_the_limits_is_refused_unread(monkeypatch) -> None:
    monkeypatch.setattr(oneroster_files, "MAX_ENTRIES", 3)
    assert problems_of(ob.school_bundle()) == ["bundle: holds 8 files; at most 3"]
    monkeypatch.setattr(oneroster_files, "MAX_ENTRIES", 200)
    monkeypatch.setattr(oneroster_files, "MAX_BUNDLE_BYTES", 1000)
    assert problems_of(ob.school_bundle()) == ["bundle: unpacks to more than 0 MB"]


def test_what_is_not_a_zip_is_refused(tmp_path) -> None:
    with pytest.raises(InvalidInput, match="not a zip archive"):
        read_bundle(b"PK this is not a zip")
    with pytest.raises(InvalidInput, match="no such file or folder"):
        read_bundle(tmp_path / "missing.zip")


def test_at_most_max_problems_are_listed(monkeypatch) -> None:
    monkeypatch.setattr(orr, "MAX_PROBLEMS", 2)
    school = ob.school_bundle()
    for sid in ("e1", "e2", "e3"):
        school = school.edit("enrollments.csv", f"{sid},,,", f"{sid},,,nowhere-")
    problems = problems_of(school)
    assert len(problems) == 3
    assert problems[-1] == "bundle: and 1 more problems"


def test_file_names_in_another_case_and_utf_16_text_are_read() -> None:
    school = ob.school_bundle()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in school.files.items():
            if name == "users.csv":
                archive.writestr("Users.CSV", text.encode("utf-16"))  # with its byte-order mark
            else:
                archive.writestr(name, text.encode())
    assert read_bundle(buffer.getvalue()) == read_bundle(school.zip_bytes())


def test_a_hidden_file_and_macos_folders_are_skipped_and_deeper_files_reported() -> None:
    school = ob.school_bundle()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in school.files.items():
            archive.writestr(f"export/{name}", text.encode())
        archive.writestr("export/.DS_Store", b"\x00\x01")
        archive.writestr("__MACOSX/export/._users.csv", b"\x00")
        archive.writestr("export/old/users.csv", b"sourcedId\n")
    found = parse_bundle(buffer.getvalue())
    assert found.problems == []
    assert [str(w) for w in found.bundle.warnings] == [
        "export/old/users.csv: in a sub-folder of the bundle; ignored"
    ]
