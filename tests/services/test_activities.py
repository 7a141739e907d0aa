"""Activities learners finish (issue 15, item 2): "mark as done" with a reflection, projects
handed in with a text, a link and a small file, and the teacher's rubric scores read back."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from tests.conftest import DEMO_NOW
from tests.services._school import fresh_demo_db, user
from zoped.domain.evidence import EvidenceKind
from zoped.domain.submissions import (
    MAX_FILE_BYTES,
    MAX_REFLECTION,
    ProjectSubmission,
    read_file,
    sniff_media_type,
)
from zoped.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from zoped.services.activities import (
    activity_page,
    mark_done,
    project_submissions,
    submission_file,
    submit_project,
)
from zoped.services.evidence import list_evidence
from zoped.services.pathways import learner_state
from zoped.services.rubrics import score_project

NOW = DEMO_NOW
HANDS_ON = "act.fair-share-sandwiches"
PROJECT = "project.recipe-party"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(scope="module")
def school(tmp_path_factory):
    database = fresh_demo_db(tmp_path_factory.mktemp("activities"))
    yield database
    database.dispose()


def completions(session, learner_id, activity_id):
    return [
        e
        for e in list_evidence(
            session, learner_id=learner_id, kinds=[EvidenceKind.ACTIVITY_COMPLETION]
        )
        if e.activity_id == activity_id
    ]


def test_the_page_names_competencies_by_title(school):
    ben = user(school, "ben")
    with school.session() as session:
        view = activity_page(session, actor=ben, learner_id="ben", activity_id=HANDS_ON, now=NOW)
    assert [(c.id, c.title) for c in view.competencies] == [
        ("found.equal-parts", "Equal parts of a whole")
    ]
    assert not view.is_project
    assert view.done_at is None


def test_mark_done_records_a_completion_with_the_reflection(school):
    ben = user(school, "ben")
    at = NOW + timedelta(minutes=5)
    event_id = uuid.uuid4()
    with school.session() as session:
        event = mark_done(
            session,
            actor=ben,
            learner_id="ben",
            activity_id=HANDS_ON,
            reflection="  Folding in 3 was hard.  ",
            event_id=event_id,
            now=at,
        )
        assert (event.kind, event.activity_id, event.note) == (
            EvidenceKind.ACTIVITY_COMPLETION,
            HANDS_ON,
            "Folding in 3 was hard.",
        )
        # The same form sent twice is one event.
        mark_done(
            session,
            actor=ben,
            learner_id="ben",
            activity_id=HANDS_ON,
            reflection="Folding in 3 was hard.",
            event_id=event_id,
            now=at,
        )
        assert [e.id for e in completions(session, "ben", HANDS_ON)] == [event_id]
        view = activity_page(session, actor=ben, learner_id="ben", activity_id=HANDS_ON, now=at)
    assert view.done_at == at
    assert [c.reflection for c in view.completions] == ["Folding in 3 was hard."]


def test_a_reflection_too_long_is_refused_and_records_nothing(school):
    dev = user(school, "dev")
    with school.session() as session:
        with pytest.raises(InvalidInput) as raised:
            mark_done(
                session,
                actor=dev,
                learner_id="dev",
                activity_id=HANDS_ON,
                reflection="x" * (MAX_REFLECTION + 1),
                event_id=uuid.uuid4(),
                now=NOW,
            )
        assert raised.value.problems[0].location == "reflection"
        assert "at most 2,000" in raised.value.problems[0].message
        assert completions(session, "dev", HANDS_ON) == []


def test_only_the_learner_and_their_teachers_act_for_them(school):
    guardian = user(school, "guardian.amara")
    ben = user(school, "ben")
    with school.session() as session:
        with pytest.raises(PermissionDenied):
            mark_done(
                session,
                actor=guardian,
                learner_id="amara",
                activity_id=HANDS_ON,
                event_id=uuid.uuid4(),
                now=NOW,
            )
        with pytest.raises(NotFound):
            mark_done(
                session,
                actor=ben,
                learner_id="amara",
                activity_id=HANDS_ON,
                event_id=uuid.uuid4(),
                now=NOW,
            )
        with pytest.raises(NotFound):
            mark_done(
                session,
                actor=ben,
                learner_id="ben",
                activity_id="no.such-activity",
                event_id=uuid.uuid4(),
                now=NOW,
            )


def test_files_are_sniffed_by_content_and_bounded():
    assert sniff_media_type(b"%PDF-1.7\n...") == "application/pdf"
    assert sniff_media_type(PNG) == "image/png"
    assert sniff_media_type(b"\xff\xd8\xff\xe0rest") == "image/jpeg"
    assert sniff_media_type("My recipe: ½ cup\n".encode()) == "text/plain"
    assert sniff_media_type(b"MZ\x90\x00\x03") is None  # a Windows program
    assert sniff_media_type(b"") is None
    # A name does not make a type: a program called .png is refused, a PNG called .exe is a PNG.
    with pytest.raises(InvalidInput, match="not accepted"):
        read_file("photo.png", b"MZ\x90\x00\x03\x00\x00")
    assert read_file("../../evil.exe", PNG).name == "evil.png"
    with pytest.raises(InvalidInput) as raised:
        read_file("big.txt", b"a" * (MAX_FILE_BYTES + 1))
    assert raised.value.problems[0].location == "file"
    assert "too large" in raised.value.problems[0].message


def test_a_submission_needs_something_and_a_real_web_link():
    empty = ProjectSubmission().problems()
    assert [p.location for p in empty] == ["text"]
    bad = ProjectSubmission(link="javascript:alert(1)").problems()
    assert [p.location for p in bad] == ["link"]
    assert ProjectSubmission(link="https://example.org/recipe").problems() == []


def test_a_project_is_handed_in_scored_and_read_back(school):
    dev, rivera = user(school, "dev"), user(school, "rivera")
    handed_in = NOW + timedelta(hours=1)
    scored = NOW + timedelta(hours=2)
    work = ProjectSubmission(
        text="We scaled by 7/2.", link="https://example.org/recipe", file=read_file("r.png", PNG)
    )
    with school.session() as session:
        event = submit_project(
            session,
            actor=dev,
            learner_id="dev",
            activity_id=PROJECT,
            work=work,
            event_id=uuid.uuid4(),
            now=handed_in,
        )
        assert event.kind is EvidenceKind.ACTIVITY_COMPLETION
        seen = project_submissions(session, actor=rivera, learner_id="dev", now=handed_in)
        (summary,) = seen[PROJECT]
        assert (summary.text, summary.link, summary.file_name, summary.file_size_bytes) == (
            "We scaled by 7/2.",
            "https://example.org/recipe",
            "r.png",
            len(PNG),
        )
        got = submission_file(
            session, actor=rivera, learner_id="dev", event_id=event.id, now=handed_in
        )
        assert (got.media_type, got.data) == ("image/png", PNG)
        before = learner_state(session, actor=rivera, learner_id="dev", now=handed_in)
        score_project(
            session,
            actor=rivera,
            learner_id="dev",
            rubric_id="rubric.recipe-party",
            chosen_levels={"scaling": 3, "measuring": 1},
            note="Clear ratio table; simplify 14/4.",
            now=scored,
        )
        after = learner_state(session, actor=rivera, learner_id="dev", now=scored)
        view = activity_page(session, actor=dev, learner_id="dev", activity_id=PROJECT, now=scored)
    # The scores count toward mastery: a top score moves the competency up.
    assert after.get("prop.scale-recipe").p_known > before.get("prop.scale-recipe").p_known
    assert view.is_project
    assert view.done_at == handed_in
    (score,) = view.scores
    assert score.comment == "Clear ratio table; simplify 14/4."
    assert score.teacher == rivera.display_name
    assert [(c.criterion, c.level, c.points, c.max_points) for c in score.criteria] == [
        ("Accurate scaling", "Extending", 4, 4),
        ("Practical amounts", "Developing", 2, 4),
    ]
    assert (score.points, score.max_points) == (6, 8)


def test_bad_project_work_is_refused_and_records_nothing(school):
    amara = user(school, "amara")
    with school.session() as session:
        with pytest.raises(InvalidInput) as raised:
            submit_project(
                session,
                actor=amara,
                learner_id="amara",
                activity_id=PROJECT,
                work=ProjectSubmission(text="ok", link="ftp://files.example.org/x"),
                event_id=uuid.uuid4(),
                now=NOW,
            )
        assert [p.location for p in raised.value.problems] == ["link"]
        with pytest.raises(InvalidInput) as raised:
            submit_project(
                session,
                actor=amara,
                learner_id="amara",
                activity_id=HANDS_ON,
                work=ProjectSubmission(text="my work"),
                event_id=uuid.uuid4(),
                now=NOW,
            )
        assert completions(session, "amara", PROJECT) == []
        assert completions(session, "amara", HANDS_ON) == []


def test_a_file_is_only_for_those_who_may_read_the_learner(school):
    dev, ben = user(school, "dev"), user(school, "ben")
    with school.session() as session:
        event = submit_project(
            session,
            actor=dev,
            learner_id="dev",
            activity_id=PROJECT,
            work=ProjectSubmission(file=read_file("notes.txt", b"my notes")),
            event_id=uuid.uuid4(),
            now=NOW + timedelta(hours=3),
        )
        with pytest.raises(NotFound):
            submission_file(session, actor=ben, learner_id="dev", event_id=event.id, now=NOW)
        # Another learner's event id under one's own name finds nothing either.
        with pytest.raises(NotFound):
            submission_file(session, actor=ben, learner_id="ben", event_id=event.id, now=NOW)
        guardian = user(school, "guardian.amara")
        with pytest.raises(NotFound):
            submission_file(session, actor=guardian, learner_id="dev", event_id=event.id, now=NOW)
        got = submission_file(session, actor=dev, learner_id="dev", event_id=event.id, now=NOW)
        assert (got.name, got.media_type, got.data) == ("notes.txt", "text/plain", b"my notes")


def test_a_teachers_comment_too_long_is_refused_and_records_nothing(school):
    rivera = user(school, "rivera")
    with school.session() as session:
        before = list_evidence(session, learner_id="ben", kinds=[EvidenceKind.RUBRIC_SCORE])
        with pytest.raises(InvalidInput) as raised:
            score_project(
                session,
                actor=rivera,
                learner_id="ben",
                rubric_id="rubric.recipe-party",
                chosen_levels={"scaling": 2},
                note="Good. " * 400,
                now=NOW,
            )
        assert raised.value.problems[0].location == "note"
        assert "at most 2,000" in raised.value.problems[0].message
        after = list_evidence(session, learner_id="ben", kinds=[EvidenceKind.RUBRIC_SCORE])
        assert after == before


def test_the_longest_text_and_the_largest_file_are_kept_together(school):
    amara = user(school, "amara")
    # 2,000 characters of emoji are 24 kB of JSON in the payload; the file is kept beside it.
    data = b"a" * MAX_FILE_BYTES
    work = ProjectSubmission(text="🍕" * 2_000, file=read_file("notes.txt", data))
    event_id = uuid.uuid4()
    with school.session() as session:
        submit_project(
            session,
            actor=amara,
            learner_id="amara",
            activity_id=PROJECT,
            work=work,
            event_id=event_id,
            now=NOW,
        )
        assert len(completions(session, "amara", PROJECT)) == 1
        kept = submission_file(session, actor=amara, learner_id="amara", event_id=event_id, now=NOW)
    assert kept.data == data


def test_an_event_id_used_for_another_activity_is_a_conflict(school):
    ben = user(school, "ben")
    event_id = uuid.uuid4()
    with school.session() as session:
        mark_done(
            session, actor=ben, learner_id="ben", activity_id=HANDS_ON, event_id=event_id, now=NOW
        )
        with pytest.raises(Conflict):
            submit_project(
                session,
                actor=ben,
                learner_id="ben",
                activity_id=PROJECT,
                work=ProjectSubmission(text="mine"),
                event_id=event_id,
                now=NOW,
            )
        assert completions(session, "ben", PROJECT) == []
