"""Times on pages, in the viewer's school's time zone.

Instants are stored and computed in UTC; a page shows them where its reader is. ``render``
(:mod:`zoped.web.deps`) puts the signed-in user's school's zone in every page's context as
``time_zone``, and templates print an instant with the ``local`` filter::

    {{ entry.at|local("%d %b %Y at %H:%M %Z") }}   ->  "12 Dec 2026 at 20:00 EST"

``%Z`` is the zone's abbreviation. A ``date`` (a day, such as a progress-history day or a goal's
target date) is printed as it is: it is already a day, not an instant.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context

#: The context name ``render`` gives the viewer's time zone.
ZONE_KEY = "time_zone"


def in_zone(value: date, zone: tzinfo, fmt: str) -> str:
    """``value`` written with ``fmt``: an instant as the clock reads in ``zone`` (a naive one
    is taken as UTC), a day as it is."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(zone).strftime(fmt)
    return value.strftime(fmt)


@pass_context
def local(context: Context, value: Any, fmt: str = "%d %b %Y %H:%M") -> str:
    """The Jinja filter: ``value`` in the page's time zone (UTC where the page has none: a
    visitor who is not signed in); an empty value is printed as ""."""
    if value is None or value == "":
        return ""
    zone = context.get(ZONE_KEY)
    return in_zone(value, zone if isinstance(zone, tzinfo) else UTC, fmt)
