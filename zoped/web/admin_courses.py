"""Pages: the school's courses, and which courses each class follows (admins only).

An admin attaches and detaches courses to a class with one form per class; the first course of
a class is its learners' default. Importing a course file is the import page's job
(:mod:`zoped.web.course_import`), linked from here.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from zoped.services import class_courses
from zoped.services import courses as course_services
from zoped.web.deps import AdminUser, CsrfProtected, DbSession, Now, SubmittedForm, render

router = APIRouter()


@router.get("/admin/courses")
def courses_page(request: Request, user: AdminUser, db: DbSession) -> Response:
    """The school's courses, and each class with the courses it follows."""
    courses = course_services.school_courses(db, school_id=user.school_id)
    following = class_courses.school_class_courses(db, actor=user)
    counts = {c.key: sum(1 for f in following if c in f.courses) for c in courses}
    return render(
        request,
        "admin/courses.html",
        {
            "courses": courses,
            "classes": following,
            "counts": counts,
            "done": request.query_params.get("done", ""),
        },
    )


@router.post("/admin/classes/{class_id}/courses", dependencies=[CsrfProtected])
def set_courses(
    user: AdminUser, db: DbSession, now: Now, class_id: str, form: SubmittedForm
) -> Response:
    """Set the courses a class follows: the ticked ones, the one chosen as first at the front,
    the others in the order the class had them (new ones after, in the page's order)."""
    ticked = [str(v) for v in form.getlist("course_ids")]
    current = [c.key for c in course_services.courses_of_class(db, class_id=class_id)]
    ordered = [k for k in current if k in ticked] + [k for k in ticked if k not in current]
    first = str(form.get("first", ""))
    if first in ordered:
        ordered = [first] + [k for k in ordered if k != first]
    class_courses.set_class_courses(db, actor=user, class_id=class_id, course_ids=ordered, now=now)
    query = urlencode({"done": class_id})
    return RedirectResponse(f"/admin/courses?{query}#class-{class_id}", status_code=303)
