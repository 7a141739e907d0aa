"""Course Markdown to safe HTML: markdown-it-py parses (CommonMark plus tables and
strikethrough, raw HTML off), nh3 sanitizes what comes out.

Two layers on purpose: raw HTML in a course file is never passed through by the parser, and the
sanitizer then allows only the tags a course needs, links only to web addresses (``http``,
``https``) or ``mailto:``, and images only from the course's own pictures (``/media/NAME``), so
a course file cannot run script, frame another site or submit a form whatever it contains, and
no page makes a learner's browser fetch a picture from another site (which would tell that site
who is reading; the pages' CSP, ``img-src 'self'``, refuses them anyway). An image from
anywhere else keeps its alt text only. External links open with ``rel="noopener noreferrer"``.
"""

from __future__ import annotations

import re
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

from zoped.domain.media import MEDIA_NAME, MEDIA_ROUTE

_BLOCK_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "code", "ul", "ol",
    "li", "table", "thead", "tbody", "tr", "th", "td", "em", "strong", "s", "a", "img",
}  # fmt: skip
_INLINE_TAGS = {"br", "code", "em", "strong", "s", "a", "img"}
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
}
_URL_SCHEMES = {"http", "https", "mailto"}
_COURSE_PICTURE = re.compile(re.escape(MEDIA_ROUTE) + MEDIA_NAME.pattern)
#: Course text longer than this is cut before parsing (a page never renders megabytes).
MAX_MARKDOWN_CHARS = 100_000


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # "js-default" is CommonMark with raw HTML off; headings in a course body start at h2
    # (the page's own title is the h1), so "#" is shifted one level down below.
    return MarkdownIt("js-default").enable(["table", "strikethrough"])


def _shift_headings(html: str) -> str:
    for level in range(5, 0, -1):
        html = html.replace(f"<h{level}>", f"<h{level + 1}>").replace(
            f"</h{level}>", f"</h{level + 1}>"
        )
    return html


def _course_picture_only(tag: str, attribute: str, value: str) -> str | None:
    """An image may only be one of the course's pictures (``/media/NAME``, docs/qti.md
    "Pictures"); any other image loses its source."""
    if tag == "img" and attribute == "src":
        return value if _COURSE_PICTURE.fullmatch(value) else None
    return value


def _clean(html: str, tags: set[str]) -> str:
    return nh3.clean(
        html,
        tags=tags,
        attributes={k: v for k, v in _ATTRIBUTES.items() if k in tags},
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
        attribute_filter=_course_picture_only,
    )


def render_markdown(text: str | None) -> Markup:
    """A course body (paragraphs, lists, tables, links, the course's pictures) as safe HTML."""
    if not text:
        return Markup("")
    html = _shift_headings(_parser().render(text[:MAX_MARKDOWN_CHARS]))
    return Markup(_clean(html, _BLOCK_TAGS))


def render_inline(text: str | None) -> Markup:
    """One line of course text (a question's stem, an option, feedback): emphasis, code,
    links and the course's own pictures (``![alt](/media/NAME)``) only, no paragraphs, so it
    fits inside a legend or a label."""
    if not text:
        return Markup("")
    html = _parser().renderInline(text[:MAX_MARKDOWN_CHARS])
    return Markup(_clean(html, _INLINE_TAGS))
