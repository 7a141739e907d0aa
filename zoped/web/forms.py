"""What a refused form shows: each problem beside its field, the page re-rendered around it.

Every page form answers a refusal the same way: the page again, status 422, what was typed still
in the boxes and each problem next to the field it is about (never a bare error page).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from zoped.errors import Conflict, InvalidInput, Problem

_FIRST_PART = re.compile(r"[.\[]")


def field_problems(
    error: InvalidInput | Conflict, *, conflict_message: str | None = None
) -> dict[str, str]:
    """A form's problems by field, the first for each, to show next to the field.

    A problem is filed under its location (``teacher_ids[0]``) and under the field that location
    starts with (``teacher_ids``), so a template may ask for either. A problem about no field,
    and a conflict (its own message unless ``conflict_message`` says it better), are filed under
    ``""`` (shown at the top of the form).
    """
    if isinstance(error, Conflict):
        return {"": conflict_message or str(error)}
    found: dict[str, str] = {}
    for problem in error.problems or [Problem("", error.message)]:
        found.setdefault(problem.location, problem.message)
        found.setdefault(_FIRST_PART.split(problem.location, maxsplit=1)[0], problem.message)
    return found


@dataclass(frozen=True)
class RefusedForm:
    """Which form of a page with several was refused, its problems and what was typed in it.

    Templates ask ``refused.problem(form, field)`` and ``refused.value(form, field, default)``;
    both answer for the refused form only, so the page's other forms show as usual.
    """

    form: str
    problems: Mapping[str, str] = field(default_factory=dict)
    typed: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        form: str,
        error: InvalidInput | Conflict,
        typed: Mapping[str, str],
        *,
        conflict_message: str | None = None,
    ) -> RefusedForm:
        return cls(form, field_problems(error, conflict_message=conflict_message), dict(typed))

    @classmethod
    def none(cls) -> RefusedForm:
        """No form refused: every question answers "nothing"."""
        return cls("")

    def problem(self, form: str, name: str = "") -> str:
        """The problem of field ``name`` of ``form`` (``""``: about the whole form), or ``""``."""
        return self.problems.get(name, "") if form == self.form else ""

    def value(self, form: str, name: str, default: str = "") -> str:
        """What was typed in field ``name`` of ``form`` if it was refused, else ``default``."""
        return self.typed.get(name, default) if form == self.form else default
