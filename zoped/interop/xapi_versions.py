"""The xAPI versions zoped's LRS speaks, 1.0.3 and 2.0.0, and every way they differ: one record
per version, chosen per request by its ``X-Experience-API-Version`` header
(:func:`negotiate`). The rest of the LRS asks the record (``version.context_agents``, say)
instead of comparing version strings.

What xAPI 2.0.0 changes for an LRS, as the record's fields name it:

- a statement may carry ``context.contextAgents`` and ``context.contextGroups`` (each entry an
  agent or group with optional ``relevantTypes`` IRIs);
- a statement's ``version`` may be 2.0.x as well as 1.0.x, and one sent without a version is
  stored as 2.0.0;
- a timestamp is an RFC 3339 date-time (seconds and a zone given), not any ISO 8601 time;
- the alternate request syntax (``POST ?method=PUT`` with a form) is refused;
- a statement read by id carries ``Last-Modified`` (its ``stored`` time);
- the state resource follows the profiles' concurrency rules (a PUT over an existing document
  without ``If-Match`` or ``If-None-Match`` is a conflict), and a PUT of a new document without
  either header is accepted (1.0.3's profiles refuse it).

Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HEADER = "X-Experience-API-Version"


@dataclass(frozen=True)
class XapiVersion:
    """What one version of xAPI asks of the LRS."""

    #: The version the LRS names in its answers' X-Experience-API-Version.
    name: str
    #: The X-Experience-API-Version values of a request that select this version.
    requested: re.Pattern[str]
    #: The ``version`` values a statement may carry.
    statement_versions: re.Pattern[str]
    #: The ``version`` the LRS gives a statement sent without one.
    default_statement_version: str
    #: ``context.contextAgents`` and ``context.contextGroups`` are allowed.
    context_agents: bool
    #: Timestamps must be RFC 3339 date-times (seconds and a zone given).
    rfc3339_timestamps: bool
    #: The alternate request syntax (``POST ?method=X`` with a form body) is read.
    alternate_syntax: bool
    #: A statement read by id carries ``Last-Modified``.
    statement_last_modified: bool
    #: The state resource refuses a PUT over an existing document without If-Match or
    #: If-None-Match (409), as the profiles do.
    state_concurrency: bool
    #: A PUT of a new profile without If-Match or If-None-Match is refused (400).
    new_profile_needs_precondition: bool


V1_0_3 = XapiVersion(
    name="1.0.3",
    requested=re.compile(r"^1\.0(\.\d+)?$"),
    statement_versions=re.compile(r"^1\.0(\.\d+)?$"),
    default_statement_version="1.0.0",
    context_agents=False,
    rfc3339_timestamps=False,
    alternate_syntax=True,
    statement_last_modified=False,
    state_concurrency=False,
    new_profile_needs_precondition=True,
)
V2_0_0 = XapiVersion(
    name="2.0.0",
    requested=re.compile(r"^2\.0(\.\d+)?$"),
    statement_versions=re.compile(r"^(1\.0|2\.0)(\.\d+)?$"),
    default_statement_version="2.0.0",
    context_agents=True,
    rfc3339_timestamps=True,
    alternate_syntax=False,
    statement_last_modified=True,
    state_concurrency=True,
    new_profile_needs_precondition=False,
)
VERSIONS = (V2_0_0, V1_0_3)
#: The versions ``/xapi/about`` lists, newest first.
ABOUT_VERSIONS = ["2.0.0", "1.0.3", "1.0.2", "1.0.1", "1.0.0"]
BY_NAME = {version.name: version for version in VERSIONS}


def negotiate(header: str | None) -> XapiVersion | None:
    """The version a request's X-Experience-API-Version selects (None: absent or unknown)."""
    if header is None:
        return None
    given = header.strip()
    return next((v for v in VERSIONS if v.requested.fullmatch(given)), None)


def answering(header: str | None, unversioned: XapiVersion) -> XapiVersion:
    """The version to name in the answer to a request: the one it asked for, else
    ``unversioned`` (what the LRS says to a request that names none, or one it does not
    speak)."""
    return negotiate(header) or unversioned
