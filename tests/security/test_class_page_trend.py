"""The class page through the HTTP client: the weekly trend chart with its table, the heatmap,
and reviews due summarised once for the class instead of a red badge on every learner."""

from __future__ import annotations

import html
import re

from tests.security.conftest import make_client, sign_in

PAGE = "/teacher/classes/class-5a"


def _text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def _section(page: str, heading_id: str) -> str:
    start = page.index(f'id="{heading_id}"')
    return page[start : page.index("</section>", start)]


def test_trend_chart_has_a_table_alternative(shared_db):
    client = make_client(shared_db)
    sign_in(client, "rivera")
    page = client.get(PAGE)
    assert page.status_code == 200
    trend = _section(page.text, "trend-h")
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="progress-chart class-trend"' in trend
    assert 'aria-labelledby="trend-title"' in trend
    assert "<details>" in trend
    rows = re.findall(r"<tr><td>([^<]+)</td><td>(\d+)</td><td>(\d+)</td>", trend)
    assert len(rows) > 2
    assert rows[-1][0] == "30 Nov 2026", "the last point is today (the pinned clock)"
    proficient = [int(p) for _, p, _ in rows]
    assert proficient[-1] > proficient[0]
    assert all(int(m) <= int(p) for _, p, m in rows)


def test_reviews_are_summarised_once_not_a_badge_per_learner(shared_db):
    client = make_client(shared_db)
    sign_in(client, "rivera")
    page = client.get(PAGE).text
    alerts = _text(_section(page, "alerts-h"))
    assert "Overdue reviews" not in alerts
    found = re.search(
        r"(\d+) of 20 learners have something to review \((\d+) reviews in all\)", alerts
    )
    assert found is not None, alerts
    assert "Most due:" in alerts
    # The per-learner detail is kept, folded away.
    assert '<details class="quiet">' in _section(page, "alerts-h")
    badges = re.findall(r'<span class="badge"[^>]*>(\d+)', _section(page, "heat-h"))
    assert len(badges) < int(found.group(1)), "not every learner with a review gets a badge"
    heat = _section(page, "heat-h")
    assert heat.count('<th scope="row" class="name-col">') == 20


def test_a_learner_cannot_see_the_class_page(shared_db):
    client = make_client(shared_db)
    sign_in(client, "amara")
    response = client.get(PAGE)
    assert response.status_code in (403, 404)
    assert "class-trend" not in response.text
