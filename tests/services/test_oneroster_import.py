"""Importing OneRoster bundles into schools, on SQLite and PostgreSQL.

A bundle written from the specification imports, imports again with no change, applies a
delta, and a broken copy is refused with located problems and nothing written.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from tests import factories as f
from tests import oneroster_bundles as ob
from tests.store.conftest import db_url as _db_url  # noqa: F401  (SQLite and PostgreSQL)
from zoped.domain.people import Role, School, User
from zoped.errors import InvalidInput, NotFound, PermissionDenied
from zoped.services import auth
from zoped.services.oneroster import import_oneroster, recent_roster_imports
from zoped.services.roster import create_school, create_user
from zoped.services.system import Database
from zoped.store.db import make_engine, session_factory
from zoped.store.repositories import PeopleRepository
from zoped.store.tables import (
    audit_log,
    class_teachers,
    classes,
    enrollments,
    guardian_links,
    metadata,
    roster_records,
    schools,
    users,
)

NOW = f.T0
LATER = NOW + timedelta(days=30)
ANA_PASSWORD = "ana-likes-maths-26"


@pytest.fixture
def db(_db_url: str) -> Iterator[Database]:  # noqa: F811 (the imported fixture)
    engine = make_engine(_db_url)
    metadata.create_all(engine)
    database = Database(url=_db_url, engine=engine, sessions=session_factory(engine))
    yield database
    database.dispose()


def run(db: Database, bundle: ob.Bundle | bytes, **kwargs: Any):
    source = bundle if isinstance(bundle, bytes) else bundle.zip_bytes()
    with db.session() as session:
        return import_oneroster(
            session, actor=kwargs.pop("actor", None), bundle_source=source, now=NOW, **kwargs
        )


def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row an import may write (times of the import left out)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with db.session() as session:
        for table in (schools, users, classes, class_teachers, enrollments, guardian_links):
            columns = [c for c in table.c if c.name not in ("created_at", "enrolled_at")]
            out[table.name] = sorted(tuple(r) for r in session.execute(select(*columns)))
        kept = [c for c in roster_records.c if c.name not in ("imported_at", "data")]
        out["roster_records"] = sorted(tuple(r) for r in session.execute(select(*kept)))
        out["roster_data"] = sorted(
            (r.kind, r.sourced_id, repr(sorted(r.data.items())))
            for r in session.execute(select(roster_records))
        )
    return out


def audit_count(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(audit_log)) or 0


class _Reader:
    """A PeopleRepository whose every call opens and closes its own session (a session left
    open on PostgreSQL would hold locks past the test)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            with self.db.session() as session:
                return getattr(PeopleRepository(session), name)(*args, **kwargs)

        return call


def people(db: Database) -> Any:
    return _Reader(db)


def counts(summary) -> dict[str, dict[str, int]]:
    return {kind: {k: v for k, v in vars(c).items() if v} for kind, c in summary.counts.items()}


def sign_in(db: Database, username: str, password: str, school: str = "s1") -> User:
    with db.session() as session:
        return auth.authenticate(
            session,
            username=username,
            password=password,
            client_address=None,
            school_id=school,
            now=NOW,
        )


# --- a bulk bundle ------------------------------------------------------------------------


def test_a_bundle_written_from_the_specification_imports(db: Database) -> None:
    summary = run(db, ob.school_bundle())
    assert summary.school_id == "s1"
    assert summary.school_created
    assert not summary.dry_run
    assert summary.warnings == ()
    assert counts(summary) == {
        "org": {"created": 2},
        "academicSession": {"created": 2},
        "course": {"created": 1},
        "user": {"created": 5},
        "role": {"created": 5},
        "class": {"created": 2},
        "enrollment": {"created": 5},
        "guardianLink": {"created": 1},
    }
    repo = people(db)
    assert repo.get_school("s1") == School("s1", "Hill Elementary")
    roles = {u.username: (u.role, u.display_name) for u in repo.list_users("s1")}
    assert roles == {
        "rivera": (Role.TEACHER, "Maria Rivera"),
        "ana": (Role.LEARNER, "Annie Lopez"),
        "ben": (Role.LEARNER, "Ben Okafor"),
        "carla.lopez": (Role.GUARDIAN, "Carla Lopez"),
        "head": (Role.ADMIN, "Sam Head"),
    }
    ids = {u.username: u.id for u in repo.list_users("s1")}
    by_name = {c.name: c for c in repo.list_classes("s1")}
    assert set(by_name) == {"Math 5 A", "Math 5 B"}
    math_a, math_b = by_name["Math 5 A"], by_name["Math 5 B"]
    assert math_a.id.startswith("math-5-a-")
    assert math_a.teacher_ids == (ids["rivera"],)
    assert repo.learners_in_class(math_a.id) == sorted([ids["ana"], ids["ben"]])
    assert repo.learners_in_class(math_b.id) == [ids["ben"]]
    assert repo.learners_of_guardian(ids["carla.lopez"]) == [ids["ana"]]
    with db.session() as session:
        entry = session.execute(select(audit_log)).mappings().one()
    assert (entry["action"], entry["subject_type"], entry["subject_id"]) == (
        "roster.import",
        "school",
        "s1",
    )
    assert entry["details"]["counts"]["user"]["created"] == 5


def test_a_learner_from_the_bundle_signs_in_with_its_password(db: Database) -> None:
    run(db, ob.school_bundle())
    assert sign_in(db, "ana", ANA_PASSWORD).display_name == "Annie Lopez"
    with pytest.raises(auth.SignInFailed):
        sign_in(db, "ben", ANA_PASSWORD)  # no password in the bundle: no password at all
    with db.session() as session:
        stored = session.scalars(select(roster_records.c.data)).all()
    assert all(ANA_PASSWORD not in repr(data) for data in stored)


def test_importing_the_same_bundle_again_changes_nothing(db: Database) -> None:
    run(db, ob.school_bundle())
    before = snapshot(db)
    summary = run(db, ob.school_bundle())
    assert not summary.changed
    assert not summary.school_created
    assert set(counts(summary)["user"]) == {"unchanged"}
    assert all(set(c) == {"unchanged"} for c in counts(summary).values())
    assert snapshot(db) == before
    assert audit_count(db) == 2  # the second import is recorded, and is all it wrote


def test_a_dry_run_counts_what_would_change_and_writes_nothing(db: Database) -> None:
    before = snapshot(db)
    dry = run(db, ob.school_bundle(), dry_run=True)
    assert dry.dry_run
    assert snapshot(db) == before
    assert audit_count(db) == 0
    real = run(db, ob.school_bundle())
    assert counts(dry) == counts(real)


# --- delta bundles ------------------------------------------------------------------------


def test_a_delta_adds_changes_and_deletes_only_what_it_lists(db: Database) -> None:
    run(db, ob.school_bundle())
    repo = people(db)
    ids = {u.username: u.id for u in repo.list_users("s1")}
    delta = ob.delta_bundle(
        {
            "users": (
                ob.USERS,
                [
                    {
                        "sourcedId": "u-dan",
                        "enabledUser": "true",
                        "username": "dan",
                        "givenName": "Dan",
                        "familyName": "Wu",
                        "password": "dan-password-2026",
                    },
                    {
                        "sourcedId": "u-ana",
                        "enabledUser": "true",
                        "username": "ana",
                        "givenName": "Ana",
                        "familyName": "Lopez-Garcia",
                        "agentSourcedIds": "u-carla",
                        "preferredGivenName": "Annie",
                    },
                    {
                        "sourcedId": "u-ben",
                        "status": "tobedeleted",
                        "enabledUser": "true",
                        "username": "ben",
                        "givenName": "Ben",
                        "familyName": "Okafor",
                    },
                ],
            ),
            "roles": (
                ob.ROLES,
                [
                    {
                        "sourcedId": "r-dan",
                        "userSourcedId": "u-dan",
                        "roleType": "primary",
                        "role": "student",
                        "orgSourcedId": "s1",
                    }
                ],
            ),
            "enrollments": (
                ob.ENROLLMENTS,
                [
                    {
                        "sourcedId": "e6",
                        "classSourcedId": "math5-b",
                        "schoolSourcedId": "s1",
                        "userSourcedId": "u-dan",
                        "role": "student",
                    },
                    {
                        "sourcedId": "e3",
                        "status": "tobedeleted",
                        "classSourcedId": "math5-a",
                        "schoolSourcedId": "s1",
                        "userSourcedId": "u-ben",
                        "role": "student",
                    },
                ],
            ),
        }
    )
    summary = run(db, delta)
    assert counts(summary) == {
        "user": {"created": 1, "updated": 1, "deactivated": 1},
        "role": {"created": 1},
        "enrollment": {"created": 1, "removed": 1},
        "guardianLink": {"unchanged": 1},
    }
    repo = people(db)
    dan = repo.find_user("s1", username="dan")
    assert dan is not None
    assert dan.role is Role.LEARNER
    assert repo.get_user(ids["ana"]).display_name == "Annie Lopez-Garcia"
    ben = repo.get_user(ids["ben"])
    assert not ben.active  # deactivated, kept
    classes_by_name = {c.name: c.id for c in repo.list_classes("s1")}
    assert repo.learners_in_class(classes_by_name["Math 5 A"]) == [ids["ana"]]
    assert repo.learners_in_class(classes_by_name["Math 5 B"]) == sorted([ids["ben"], dan.id])
    assert sign_in(db, "dan", "dan-password-2026").id == dan.id
    # The same delta again changes nothing.
    before = snapshot(db)
    again = run(db, delta)
    assert not again.changed
    assert snapshot(db) == before


def test_a_bulk_file_deletes_what_it_no_longer_lists(db: Database) -> None:
    run(db, ob.school_bundle())
    ids = {u.username: u.id for u in people(db).list_users("s1")}
    school = ob.school_bundle()
    without_ben = school.with_file(
        "users.csv",
        "\n".join(x for x in school.files["users.csv"].splitlines() if not x.startswith("u-ben"))
        + "\n",
    )
    without_ben = without_ben.with_file(
        "roles.csv",
        "\n".join(x for x in school.files["roles.csv"].splitlines() if not x.startswith("r-ben"))
        + "\n",
    ).with_file(
        "enrollments.csv",
        "\n".join(x for x in school.files["enrollments.csv"].splitlines() if "u-ben" not in x)
        + "\n",
    )
    summary = run(db, without_ben)
    assert counts(summary)["user"] == {"unchanged": 4, "deactivated": 1}
    assert counts(summary)["enrollment"] == {"unchanged": 3, "removed": 2}
    repo = people(db)
    assert not repo.get_user(ids["ben"]).active
    assert all(ids["ben"] not in repo.learners_in_class(c.id) for c in repo.list_classes("s1"))


def test_a_deleted_class_loses_its_members_and_teachers_and_keeps_its_row(db: Database) -> None:
    run(db, ob.school_bundle())
    delta = ob.delta_bundle(
        {
            "classes": (
                ob.CLASSES,
                [
                    {
                        "sourcedId": "math5-b",
                        "status": "tobedeleted",
                        "title": "Math 5 B",
                        "courseSourcedId": "math5",
                        "classType": "scheduled",
                        "schoolSourcedId": "s1",
                        "termSourcedIds": "fall",
                    }
                ],
            )
        }
    )
    summary = run(db, delta)
    assert counts(summary) == {"class": {"removed": 1}, "guardianLink": {"unchanged": 1}}
    repo = people(db)
    math_b = next(c for c in repo.list_classes("s1") if c.name == "Math 5 B")
    assert math_b.teacher_ids == ()
    assert repo.learners_in_class(math_b.id) == []


def test_a_deleted_guardian_is_deactivated_and_unlinked(db: Database) -> None:
    run(db, ob.school_bundle())
    ids = {u.username: u.id for u in people(db).list_users("s1")}
    delta = ob.delta_bundle(
        {
            "users": (
                ob.USERS,
                [
                    {
                        "sourcedId": "u-carla",
                        "status": "tobedeleted",
                        "enabledUser": "true",
                        "username": "carla.lopez",
                        "givenName": "Carla",
                        "familyName": "Lopez",
                    }
                ],
            )
        }
    )
    summary = run(db, delta)
    assert counts(summary)["guardianLink"] == {"removed": 1}
    repo = people(db)
    assert not repo.get_user(ids["carla.lopez"]).active
    assert repo.learners_of_guardian(ids["carla.lopez"]) == []


def test_enabled_user_false_deactivates_and_true_reactivates(db: Database) -> None:
    run(db, ob.school_bundle())
    off = ob.school_bundle().edit("users.csv", "u-ben,,,true", "u-ben,,,false")
    assert counts(run(db, off))["user"] == {"unchanged": 4, "deactivated": 1}
    assert not people(db).find_user("s1", username="ben").active
    assert counts(run(db, ob.school_bundle()))["user"] == {"unchanged": 4, "updated": 1}
    assert people(db).find_user("s1", username="ben").active


def test_a_roster_password_is_set_once_and_again_only_when_the_roster_changes_it(
    db: Database,
) -> None:
    run(db, ob.school_bundle())
    ana = sign_in(db, "ana", ANA_PASSWORD)
    with db.session() as session:
        auth_hash = auth.hash_password("my-own-new-password")
        from zoped.store.auth_repository import set_password_hash

        set_password_hash(session, user_id=ana.id, password_hash=auth_hash)
        session.commit()
    run(db, ob.school_bundle())  # the roster's password is the same: ana keeps her own
    assert sign_in(db, "ana", "my-own-new-password").id == ana.id
    changed = ob.school_bundle().edit("users.csv", ANA_PASSWORD, "a-new-roster-password")
    assert counts(run(db, changed))["user"] == {"unchanged": 4, "updated": 1}
    assert sign_in(db, "ana", "a-new-roster-password").id == ana.id


# --- broken copies ------------------------------------------------------------------------


def test_broken_copies_are_refused_with_located_problems_and_nothing_written(
    db: Database,
) -> None:
    run(db, ob.school_bundle())
    before, audits = snapshot(db), audit_count(db)
    broken = (
        ob.school_bundle()
        .edit("users.csv", "givenName", "givneName")
        .edit("enrollments.csv", "e2,,,math5-a", "e2,,,math5-z")
        .edit("academicSessions.csv", "2026-08-01,2026-12-20", "8/1/2026,2026-12-20")
    )
    with pytest.raises(InvalidInput) as caught:
        run(db, broken)
    assert [str(p) for p in caught.value.problems] == [
        "academicSessions.csv line 3 column startDate: '8/1/2026' is ambiguous (1 August or "
        "8 January 2026?); write dates as YYYY-MM-DD",
        "users.csv line 1 column givneName: unknown column 'givneName': did you mean 'givenName'?",
        "enrollments.csv line 3 column classSourcedId: no class 'math5-z' in classes.csv",
    ]
    assert snapshot(db) == before
    assert audit_count(db) == audits


def test_a_broken_first_import_creates_no_school(db: Database) -> None:
    broken = ob.school_bundle().edit("roles.csv", "u-ben,primary,student", "u-bob,primary,student")
    with pytest.raises(InvalidInput, match=r"no user 'u-bob' in users\.csv"):
        run(db, broken)
    assert snapshot(db)["schools"] == []


def test_problems_only_the_database_can_see_are_located_too(db: Database) -> None:
    with db.session() as session:
        create_school(session, school=School("s1", "Hill Elementary"), now=NOW)
        create_user(
            session,
            user=User(
                id="ana-2",
                school_id="s1",
                role=Role.LEARNER,
                display_name="Another Ana",
                username="ana",
            ),
            now=NOW,
        )
    before = snapshot(db)
    with pytest.raises(InvalidInput) as caught:
        run(db, ob.school_bundle(), school_id="s1")
    assert [str(p) for p in caught.value.problems] == [
        "users.csv line 3 column username: 'ana' is already used by another account of this school"
    ]
    assert snapshot(db) == before


def test_an_import_does_not_change_a_users_role(db: Database) -> None:
    run(db, ob.school_bundle())
    teacher_now = ob.school_bundle().edit(
        "roles.csv", "primary,student,,,s1,\nr-ben", "primary,teacher,,,s1,\nr-ben"
    )
    with pytest.raises(InvalidInput) as caught:
        run(db, teacher_now)
    problems = [str(p) for p in caught.value.problems]
    assert problems[0] == (
        "users.csv line 3: is a learner in zoped and would become a teacher; an import does not "
        "change roles (an admin can make a new account)"
    )


def test_an_enrollment_in_a_role_the_account_does_not_have_is_skipped(db: Database) -> None:
    school = ob.school_bundle().edit(
        "enrollments.csv", "e5,,,math5-b,s1,u-ben,student", "e5,,,math5-b,s1,u-head,teacher"
    )
    summary = run(db, school)
    assert counts(summary)["enrollment"] == {"created": 4, "skipped": 1}
    assert [str(w) for w in summary.warnings] == [
        "enrollments.csv line 6 column role: not imported: 'u-head' is an admin in zoped, and "
        "only a teacher is enrolled as teacher"
    ]
    math_b = next(c for c in people(db).list_classes("s1") if c.name == "Math 5 B")
    assert math_b.teacher_ids == (people(db).find_user("s1", username="rivera").id,)


def test_roles_zoped_does_not_have_are_skipped_and_reported(db: Database) -> None:
    school = ob.school_bundle().edit("roles.csv", "primary,siteAdministrator", "primary,aide")
    school = school.edit(
        "enrollments.csv", "e5,,,math5-b,s1,u-ben,student", "e5,,,math5-b,s1,u-head,aide"
    )
    summary = run(db, school)
    assert counts(summary)["user"] == {"created": 4, "skipped": 1}
    assert counts(summary)["enrollment"] == {"created": 4, "skipped": 1}
    assert [str(w) for w in summary.warnings] == [
        "users.csv line 6: not imported: zoped has no role for aide (roles.csv)",
        "enrollments.csv: enrollments not imported (zoped has no such role): 1 as aide",
    ]
    assert people(db).find_user("s1", username="head") is None


# --- schools and who may import -----------------------------------------------------------


def test_an_admin_imports_into_their_own_school_only(db: Database) -> None:
    with db.session() as session:
        create_school(session, school=School("hill", "Hill (zoped)"), now=NOW)
        create_school(session, school=School("dale", "Dale"), now=NOW)
        for uid, school, role in (
            ("admin-hill", "hill", Role.ADMIN),
            ("admin-dale", "dale", Role.ADMIN),
            ("teacher-hill", "hill", Role.TEACHER),
        ):
            create_user(
                session,
                user=User(id=uid, school_id=school, role=role, display_name=uid, username=uid),
                now=NOW,
            )
    repo = people(db)
    admin, other_admin, teacher = (
        repo.get_user(u) for u in ("admin-hill", "admin-dale", "teacher-hill")
    )
    with pytest.raises(PermissionDenied):
        run(db, ob.school_bundle(), actor=teacher)
    with pytest.raises(PermissionDenied):
        run(db, ob.school_bundle(), actor=admin, school_id="dale")
    summary = run(db, ob.school_bundle(), actor=admin)
    assert (summary.school_id, summary.school_created) == ("hill", False)
    assert {u.username for u in people(db).list_users("hill")} >= {"ana", "rivera"}
    with db.session() as session:
        entries = recent_roster_imports(session, actor=admin)
        assert [e.actor_id for e in entries] == ["admin-hill"]
        assert recent_roster_imports(session, actor=other_admin) == []
    # The same school org is Hill now: Dale's admin may not import it into Dale.
    before = snapshot(db)
    with pytest.raises(InvalidInput) as caught:
        run(db, ob.school_bundle(), actor=other_admin)
    assert [str(p) for p in caught.value.problems] == [
        "orgs.csv line 3 column sourcedId: the org 's1' was imported as another school "
        "('hill'); an admin imports only into their own school"
    ]
    assert snapshot(db) == before


def test_a_school_rostered_from_one_org_refuses_another(db: Database) -> None:
    run(db, ob.school_bundle())
    other = ob.school_bundle(school="s9", prefix="x-")
    with pytest.raises(InvalidInput) as caught:
        run(db, other, school_id="s1")
    assert str(caught.value.problems[0]) == (
        "orgs.csv line 3 column sourcedId: this school was rostered from the org 's1'; the "
        "bundle's school is 's9'"
    )


def test_two_schools_with_the_same_usernames_never_cross(db: Database) -> None:
    run(db, ob.school_bundle())
    second = run(db, ob.school_bundle(school="s2", prefix=""))
    # Same sourcedIds and usernames, another school org: another school, other accounts.
    assert (second.school_id, second.school_created) == ("s2", True)
    repo = people(db)
    first_ids = {u.id for u in repo.list_users("s1")}
    second_ids = {u.id for u in repo.list_users("s2")}
    assert len(first_ids) == len(second_ids) == 5
    assert first_ids.isdisjoint(second_ids)
    assert sign_in(db, "ana", ANA_PASSWORD, school="s2").school_id == "s2"
    assert sign_in(db, "ana", ANA_PASSWORD, school="s1").school_id == "s1"


def test_a_bundle_with_two_schools_or_none_needs_saying_which(db: Database) -> None:
    school = ob.school_bundle()
    two = school.edit(
        "orgs.csv",
        "Springfield District,district",
        "Springfield Middle,school",
    )
    with pytest.raises(InvalidInput) as caught:
        run(db, two)
    assert str(caught.value.problems[0]) == (
        "orgs.csv line 3 column type: the bundle holds 2 schools ('d1', 's1'); zoped imports "
        "one school per bundle"
    )
    with pytest.raises(NotFound):
        run(db, school, school_id="nowhere")


def test_a_learner_the_roster_deletes_can_no_longer_sign_in(db: Database) -> None:
    run(db, ob.school_bundle())
    assert sign_in(db, "ana", ANA_PASSWORD).active
    gone = ob.delta_bundle(
        {
            "users": (
                ob.USERS,
                [
                    {
                        "sourcedId": "u-ana",
                        "status": "tobedeleted",
                        "enabledUser": "true",
                        "username": "ana",
                        "givenName": "Ana",
                        "familyName": "Lopez",
                    }
                ],
            )
        }
    )
    assert counts(run(db, gone))["user"] == {"deactivated": 1}
    with pytest.raises(auth.AccountDeactivated):
        sign_in(db, "ana", ANA_PASSWORD)
    back = gone.edit("users.csv", "u-ana,tobedeleted,", "u-ana,active,")
    assert counts(run(db, back))["user"] == {"updated": 1}
    assert sign_in(db, "ana", ANA_PASSWORD).active


def test_after_a_learner_is_erased_the_roster_imports_again_and_links_their_guardian(
    db: Database,
) -> None:
    """Erasure deletes the roster records about the learner but only scrubs the learner out of
    records that merely name them (the guardian's ``agentSourcedIds``): a guardian who has
    another child stays the same account, and the next import recreates the learner and links
    them again (it used to refuse the bundle: the guardian's username looked taken)."""
    from zoped.domain.people import GuardianLink
    from zoped.services.privacy import erase_learner
    from zoped.services.roster import link_guardian

    run(db, ob.school_bundle())
    ids = {u.username: u.id for u in people(db).list_users("s1")}
    with db.session() as session:
        link = GuardianLink(guardian_id=ids["carla.lopez"], learner_id=ids["ben"])
        link_guardian(session, link=link, now=NOW)  # a second child: Carla is not erased
        head = PeopleRepository(session).get_user(ids["head"])
        erase_learner(session, actor=head, learner_id=ids["ana"], now=LATER)
    again = run(db, ob.school_bundle())
    new_ids = {u.username: u.id for u in people(db).list_users("s1")}
    assert new_ids["carla.lopez"] == ids["carla.lopez"]
    assert counts(again)["user"] == {"created": 1, "updated": 1, "unchanged": 3}
    # The roster owns links between its users: Ana's again, the hand-made one to Ben gone.
    assert people(db).learners_of_guardian(ids["carla.lopez"]) == [new_ids["ana"]]


def test_a_renamed_school_org_renames_the_school(db: Database) -> None:
    run(db, ob.school_bundle())
    renamed = {
        "sourcedId": "s1", "name": "Hill Primary", "type": "school", "identifier": "HE-01",
        "parentSourcedId": "d1",
    }  # fmt: skip
    run(db, ob.delta_bundle({"orgs": (ob.ORGS, [renamed])}))
    assert people(db).get_school("s1").name == "Hill Primary"
