"""Prior-learning claims: a learner says what they already know; a teacher accepts or rejects.

A claim is not evidence. The learner submits it (what they learned, where, a link to show it);
a teacher of that learner (or an admin) accepts it or rejects it with a reason. Only an accepted
claim counts: accepting records one ``prior_learning`` event by the teacher for the claimed
competencies (at proficient), in the same transaction as the decision, and that event is what
the learner's state folds. Claims live in the learner's profile; only this module changes them.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from zoped.domain.course import Course
from zoped.domain.evidence import EvidenceEvent, EvidenceKind, EvidenceSource
from zoped.domain.people import ClaimStatus, LearnerProfile, PriorLearningClaim, User
from zoped.engine.fold import learning_graph
from zoped.engine.mastery import MasteryLevel
from zoped.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Problem
from zoped.services import transaction
from zoped.services.courses import courses_of_learner, get_course
from zoped.services.policy import Action, require_learner_access
from zoped.store.evidence_log import EvidenceRepository
from zoped.store.repositories import PeopleRepository, append_audit

#: A learner may have this many claims waiting for a teacher at once.
MAX_PENDING = 20
MAX_TEXT = 2000
#: The level an accepted claim gives its competencies.
CLAIMED_LEVEL = MasteryLevel.PROFICIENT


def _learner_courses(session: Session, learner_id: str) -> list[Course]:
    return [
        get_course(session, course_id=c.key)
        for c in courses_of_learner(session, learner_id=learner_id)
    ]


def claimable(session: Session, *, learner_id: str) -> dict[str, str]:
    """The competencies a learner may claim (those of the courses of their classes, groupings
    excluded): id -> title. Callers check access to the learner."""
    found: dict[str, str] = {}
    for course in _learner_courses(session, learner_id):
        graph = learning_graph(course)
        found.update(zip(graph.ids, graph.titles, strict=True))
    return found


def list_claims(
    session: Session, *, actor: User, learner_id: str, now: datetime
) -> list[PriorLearningClaim]:
    """The learner's claims, newest first (audited read)."""
    with transaction(session):
        require_learner_access(
            session, actor=actor, learner_id=learner_id, action=Action.READ, now=now
        )
        profile = PeopleRepository(session).get_profile(learner_id)
    claims = profile.prior_learning if profile else ()
    return sorted(claims, key=lambda c: c.submitted_at, reverse=True)


def submit_claim(
    session: Session,
    *,
    actor: User,
    learner_id: str,
    competency_ids: list[str],
    what: str,
    where: str = "",
    link: str = "",
    now: datetime,
) -> PriorLearningClaim:
    """The learner claims to know ``competency_ids`` already, with their evidence.

    Raises:
        PermissionDenied: the actor is not the learner (a claim is the learner's own word).
        InvalidInput: no competency, an unknown one, empty or too long text, a link that is
            not http(s), or too many claims waiting (nothing is stored).
        NotFound: the learner is out of reach.
    """
    require_learner_access(
        session, actor=actor, learner_id=learner_id, action=Action.WRITE, now=now
    )
    if actor.id != learner_id:
        raise PermissionDenied("a prior-learning claim comes from the learner themselves")
    problems: list[Problem] = []
    wanted = sorted(set(competency_ids))
    if not wanted:
        problems.append(Problem("competency_ids", "choose what you already know"))
    known = {
        c.id
        for course in _learner_courses(session, learner_id)
        for c in course.framework.competencies
    }
    problems += [
        Problem("competency_ids", f"no competency {c!r}") for c in wanted if c not in known
    ]
    what, where, link = what.strip(), where.strip(), link.strip()
    if not what:
        problems.append(Problem("what", "say what you learned"))
    for name, text in (("what", what), ("where", where), ("link", link)):
        if len(text) > MAX_TEXT:
            problems.append(Problem(name, f"at most {MAX_TEXT} characters"))
    if link and not link.startswith(("https://", "http://")):
        problems.append(Problem("link", "a link starts with https://"))
    with transaction(session):
        profile = _profile(session, learner_id)
        pending = [c for c in profile.prior_learning if c.status is ClaimStatus.PENDING]
        if len(pending) >= MAX_PENDING:
            problems.append(Problem("claims", f"at most {MAX_PENDING} claims can wait at once"))
        if problems:
            raise InvalidInput("the claim could not be sent", problems)
        evidence = "\n".join(
            part for part in (what, f"Where: {where}" if where else "", link) if part
        )
        claim = PriorLearningClaim(
            id=str(uuid.uuid4()),
            learner_id=learner_id,
            competency_ids=tuple(wanted),
            evidence=evidence,
            submitted_at=now,
        )
        updated = dataclasses.replace(profile, prior_learning=(*profile.prior_learning, claim))
        PeopleRepository(session).save_profile(updated, at=now)
        append_audit(
            session,
            at=now,
            actor_id=actor.id,
            action="claim.submit",
            subject_type="learner",
            subject_id=learner_id,
            details={"claim": claim.id, "competencies": list(wanted)},
        )
    return claim


def decide_claim(
    session: Session,
    *,
    actor: User,
    learner_id: str,
    claim_id: str,
    accept: bool,
    note: str = "",
    now: datetime,
) -> PriorLearningClaim:
    """A teacher of the learner accepts or rejects a claim; only an accepted one counts.

    Raises:
        PermissionDenied: the actor may not judge this learner's evidence (not their teacher).
        NotFound: the learner is out of reach, or no such claim.
        Conflict: the claim was already decided.
        InvalidInput: a rejection without a reason, or a note that is too long.
    """
    require_learner_access(
        session, actor=actor, learner_id=learner_id, action=Action.OVERRIDE, now=now
    )
    note = note.strip()
    if not accept and not note:
        raise InvalidInput("say why", [Problem("note", "a rejection needs a reason")])
    if len(note) > MAX_TEXT:
        raise InvalidInput("note too long", [Problem("note", f"at most {MAX_TEXT} characters")])
    with transaction(session):
        profile = _profile(session, learner_id)
        found = next((c for c in profile.prior_learning if c.id == claim_id), None)
        if found is None:
            raise NotFound(f"no claim {claim_id!r}")
        if found.status is not ClaimStatus.PENDING:
            raise Conflict(f"this claim was already {found.status}")
        decided = dataclasses.replace(
            found,
            status=ClaimStatus.ACCEPTED if accept else ClaimStatus.REJECTED,
            decided_by=actor.id,
            decided_at=now,
            decision_note=note,
        )
        claims = tuple(decided if c.id == claim_id else c for c in profile.prior_learning)
        PeopleRepository(session).save_profile(
            dataclasses.replace(profile, prior_learning=claims), at=now
        )
        if accept:
            EvidenceRepository(session).add(
                EvidenceEvent(
                    id=uuid.uuid4(),
                    learner_id=learner_id,
                    kind=EvidenceKind.PRIOR_LEARNING,
                    occurred_at=now,
                    recorded_at=now,
                    source=EvidenceSource.WEB,
                    competency_ids=found.competency_ids,
                    actor_id=actor.id,
                    note=note or found.evidence.splitlines()[0],
                    payload={"claim_id": found.id, "level": int(CLAIMED_LEVEL)},
                )
            )
        append_audit(
            session,
            at=now,
            actor_id=actor.id,
            action="claim.accept" if accept else "claim.reject",
            subject_type="learner",
            subject_id=learner_id,
            details={"claim": claim_id},
        )
    return decided


def _profile(session: Session, learner_id: str) -> LearnerProfile:
    repo = PeopleRepository(session)
    profile = repo.get_profile(learner_id)
    if profile is not None:
        return profile
    return LearnerProfile(learner_id, repo.get_user(learner_id).display_name)
