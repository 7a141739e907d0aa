"""Page: the admin's export and erasure page.

Find a learner of the school, download their data, ask for their erasure; see the pending
requests with their due dates (and cancel them) and the requests already closed. The forms post
to the privacy routes (:mod:`zoped.web.privacy`), which come back here. There is no "erase
now": every erasure waits out the grace period, so a mistaken request can still be called off.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from zoped.services import erasure
from zoped.web.deps import AdminUser, DbSession, render
from zoped.web.privacy import grace_days

router = APIRouter()

#: Learners a search shows at most.
SEARCH_LIMIT = 50


@router.get("/admin/privacy")
def admin_privacy(
    request: Request,
    user: AdminUser,
    session: DbSession,
    q: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """Find a learner to export or erase; pending and closed erasure requests."""
    found = (
        erasure.find_learners(session, actor=user, query=q, limit=SEARCH_LIMIT + 1)
        if q.strip()
        else []
    )
    pending = erasure.pending_erasures(session, actor=user)
    context = {
        "q": q,
        "found": found[:SEARCH_LIMIT],
        "more": len(found) > SEARCH_LIMIT,
        "pending": pending,
        "pending_ids": {n.request.learner_id for n in pending},
        "history": erasure.erasure_history(session, actor=user),
        "grace_days": grace_days(request),
        "done": request.query_params.get("done", ""),
    }
    return render(request, "admin/privacy.html", context)
