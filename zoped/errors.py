"""One exception hierarchy for all of zoped.

::

    ZopedError
     ├── InvalidInput        bad data from a user or a file; carries every problem found
     ├── NotFound            the thing asked for does not exist (or may not be seen)
     ├── PermissionDenied    the actor may not do this
     ├── Conflict            a stale version, or an event id reused with other content
     └── EngineError         learner-model trouble
          ├── NotFitted      a model was used before `fit` or `load`
          └── DidNotConverge an optimiser gave up

Domain, engine and service code raise these; the API maps each class to one status code and
the pages to one friendly message. Nothing else is raised on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, with where it is (a path such as ``items[3].answer``)."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class ZopedError(Exception):
    """Base of every error zoped raises on purpose."""


class InvalidInput(ZopedError):
    """Input that cannot be accepted. ``problems`` lists every problem, not just the first."""

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        self.problems: list[Problem] = list(problems or [])
        detail = "; ".join(str(p) for p in self.problems[:20])
        more = f" (and {len(self.problems) - 20} more)" if len(self.problems) > 20 else ""
        super().__init__(f"{message}: {detail}{more}" if detail else message)
        self.message = message


class NotFound(ZopedError):
    """The thing asked for does not exist, or the actor may not know that it does."""


class PermissionDenied(ZopedError):
    """The actor may not do this."""


class Conflict(ZopedError):
    """A write that contradicts what is stored: a stale version or a reused event id."""


class EngineError(ZopedError):
    """Learner-model trouble."""


class NotFitted(EngineError):
    """A model was used before it was fitted or loaded."""


class DidNotConverge(EngineError):
    """An optimiser stopped without converging."""
