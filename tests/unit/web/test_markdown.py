"""Course Markdown becomes safe HTML: structure kept, anything that could run or leave the
page's control removed, whatever the course file holds."""

from __future__ import annotations

from html.parser import HTMLParser

from hypothesis import given
from hypothesis import strategies as st

from zoped.web.markdown import render_inline, render_markdown

SAFE_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "code", "ul", "ol",
    "li", "table", "thead", "tbody", "tr", "th", "td", "em", "strong", "s", "a", "img",
}  # fmt: skip


class _Elements(HTMLParser):
    """Every element and attribute a browser would build from the HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def _unsafe(html: str) -> list[str]:
    parser = _Elements()
    parser.feed(html)
    problems = []
    for tag, attrs in parser.found:
        if tag not in SAFE_TAGS:
            problems.append(f"<{tag}>")
        for name, value in attrs.items():
            if name.startswith("on") or name in ("style", "srcdoc", "formaction"):
                problems.append(f"{tag}[{name}]")
            if name in ("href", "src") and (value or "").strip().lower().startswith(
                ("javascript:", "data:", "vbscript:")
            ):
                problems.append(f"{tag}[{name}={value}]")
    return problems


def test_headings_emphasis_lists_tables_and_links_render() -> None:
    html = render_markdown(
        "## Worked example\n\n**Question.** What is *half* of 8?\n\n- one\n- two\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n[a map](https://example.org/map)\n\n"
        "![a diagram](https://example.org/d.png)\n\n![a graph](/media/%s.png)" % ("ab" * 32)
    )
    assert "<h3>Worked example</h3>" in html  # the page's h1 and h2 come first
    assert "<strong>Question.</strong>" in html
    assert "<em>half</em>" in html
    assert "<li>one</li>" in html
    assert "<td>2</td>" in html
    assert 'href="https://example.org/map"' in html
    assert 'rel="noopener noreferrer"' in html
    # A picture from another site would tell it who reads the page: it keeps its alt text only.
    assert '<img alt="a diagram">' in html
    assert "example.org/d.png" not in html
    assert f'<img src="/media/{"ab" * 32}.png" alt="a graph">' in html
    assert "##" not in html


def test_script_handlers_and_dangerous_links_never_survive() -> None:
    html = render_markdown(
        "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n"
        "[click](javascript:alert(1)) [data](data:text/html,hi) <iframe src='https://e.org'>"
        "\n\n<form action='/signout'><button>go</button></form>"
    )
    assert _unsafe(html) == []
    assert "&lt;script&gt;" in html  # raw HTML is shown as text, never run


def test_inline_text_stays_inline() -> None:
    html = render_inline(
        "Simplify **6/8**: see `x` and [notes](https://example.org)\n\n# not a heading"
    )
    assert "<strong>6/8</strong>" in html
    assert "<code>x</code>" in html
    assert "<p>" not in html
    assert "<h" not in html


def test_empty_text_renders_nothing() -> None:
    assert render_markdown("") == ""
    assert render_inline(None) == ""


@given(
    st.text(alphabet=st.sampled_from(list("<>/\"'=: ajvsrciptonerlfmhd()*[]!#-_`\n")), max_size=200)
)
def test_no_generated_text_yields_a_script_tag_or_handler(text: str) -> None:
    for html in (render_markdown(text), render_inline(text)):
        assert _unsafe(str(html)) == []


def test_the_unsafe_check_itself_sees_unsafe_html() -> None:
    assert _unsafe('<a href="javascript:x" onclick="y">a</a><script></script>') == [
        "a[href=javascript:x]",
        "a[onclick]",
        "<script>",
    ]
