"""The learner's state and menu in the JSON API: the same services and numbers as the pages."""

from __future__ import annotations

import re

from tests.conftest import DEMO_NOW
from tests.security.conftest import make_client, sign_in
from zoped.domain.people import Role
from zoped.services import tokens


def test_the_state_is_what_the_learner_sees(shared_db) -> None:
    client = make_client(shared_db)
    sign_in(client, "amara")
    response = client.get("/api/v1/learners/amara/state")
    assert response.status_code == 200, response.text
    state = response.json()
    page = client.get("/learner").text
    headline = re.search(r'<p class="lead">[^<]*?: (\d+) mastered', page)
    assert headline is not None
    assert state["counts"]["mastered"] == int(headline.group(1))
    assert state["counts"]["total"] == len(state["competencies"]) > 0
    assert len(state["parameter_version"]) == 12
    for c in state["competencies"]:
        assert 0.0 < c["p_known"] < 1.0
        assert 0.0 < c["p_correct"] < 1.0
        assert c["level"] in {
            "not started", "attempted", "familiar", "proficient", "mastered", "review due"
        }  # fmt: skip
    levels = [c["level"] for c in state["competencies"]]
    assert state["counts"]["mastered"] == levels.count("mastered") + levels.count("review due")


def test_the_menu_is_what_the_home_page_offers(shared_db) -> None:
    client = make_client(shared_db)
    sign_in(client, "amara")
    menu = client.get("/api/v1/learners/amara/menu").json()
    assert 1 <= len(menu["options"]) <= 4
    page = client.get("/learner").text
    for option in menu["options"]:
        assert option["reason"]
        assert f'value="{option["activity_id"]}"' in page
    other = client.get("/api/v1/learners/amara/menu", params={"seed": 1, "k": 2}).json()
    assert len(other["options"]) <= 2
    assert other["decision_id"] != menu["decision_id"]
    # The next page is other options (issue 15: "Show me other options" showed the same four).
    following = client.get("/api/v1/learners/amara/menu", params={"page": 1}).json()
    assert menu["page"] == 0
    assert following["page"] == 1
    shown = {o["activity_id"] for o in menu["options"]}
    assert {o["activity_id"] for o in following["options"]} != shown
    assert client.get("/api/v1/learners/amara/menu?page=-1").status_code == 422


def test_state_and_menu_follow_the_policy(shared_db) -> None:
    client = make_client(shared_db)
    sign_in(client, "amara")
    for path in ("/api/v1/learners/umar/state", "/api/v1/learners/umar/menu"):
        assert client.get(path).status_code == 404  # another learner: out of reach
    assert client.get("/api/v1/learners/amara/state?course=no-such").status_code == 404
    assert client.get("/api/v1/learners/amara/menu?k=0").status_code == 422
    guardian = make_client(shared_db)
    sign_in(guardian, "guardian.amara")
    assert guardian.get("/api/v1/learners/amara/state").status_code == 200
    with shared_db.session() as session:
        issued = tokens.create_service_credentials(
            session,
            role=Role.ADMIN,
            name="no read",
            scopes=["write:evidence"],
            days=1,
            now=DEMO_NOW,
        )
    bearer = {"Authorization": f"Bearer {issued.value}"}
    assert client.get("/api/v1/learners/amara/state", headers=bearer).status_code == 403
