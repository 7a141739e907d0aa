"""Pages: a guardian's children, and one child's roadmap, goals, progress and teachers' comments.

A guardian sees only the learners they are linked to: the services ask the policy, which
answers "not found" (404) for any other learner, exactly as for one who does not exist.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from zoped.domain.people import Role
from zoped.services import learner_pages, plans
from zoped.web.deps import DbSession, GuardianUser, Now, render

router = APIRouter()


@router.get("/guardian")
def children_page(request: Request, user: GuardianUser, db: DbSession) -> Response:
    """The guardian's children."""
    children = learner_pages.guardian_children(db, actor=user)
    return render(request, "guardian/children.html", {"children": children})


@router.get("/guardian/learners/{learner_id}")
def child_page(
    request: Request, learner_id: str, user: GuardianUser, db: DbSession, now: Now
) -> Response:
    """One child's roadmap, goals, recent progress and teachers' comments."""
    view = learner_pages.child_view(db, actor=user, learner_id=learner_id, now=now)
    plan = plans.get_plan(db, actor=user, learner_id=learner_id, now=now)
    comments = [c for c in plan.comments if c.comment.author_id != learner_id]
    return render(
        request,
        "guardian/child.html",
        {"v": view, "plan": plan, "comments": comments, "teacher_role": Role.TEACHER},
    )
