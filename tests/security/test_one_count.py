"""The learner's headline, their progress chart and their guardian's page count mastered
competencies the same way (one function, zoped.engine.mastery.count_levels)."""

from __future__ import annotations

import re

from tests.security.conftest import make_client, sign_in


def test_headline_chart_and_guardian_page_show_one_mastered_count(shared_db) -> None:
    learner = make_client(shared_db)
    sign_in(learner, "amara")
    page = learner.get("/learner").text
    headline = re.search(r'<p class="lead">[^<]*?: (\d+) mastered', page)
    assert headline is not None, page[:2000]
    rows = re.findall(r"<tr><td>[^<]+</td><td>(\d+)</td><td>(\d+)</td></tr>", page)
    assert rows, "the progress table has rows"
    chart_mastered = int(rows[-1][1])
    guardian = make_client(shared_db)
    sign_in(guardian, "guardian.amara")
    child = guardian.get("/guardian/learners/amara").text
    shown = re.search(r"<strong>(\d+)</strong> mastered", child)
    assert shown is not None
    assert int(headline.group(1)) == chart_mastered == int(shown.group(1))
    assert int(headline.group(1)) > 0, "amara has mastered something in the demo"
