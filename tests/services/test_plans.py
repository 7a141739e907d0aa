"""Plans (versions, stale writes, comments) and the learning log (private by default)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.services.conftest import NOW
from zoped.errors import Conflict, PermissionDenied
from zoped.services import learning_log, plans


def test_plan_versions_refuse_stale_writes_and_take_comments(school):
    with school.db.session() as s:
        view = plans.get_plan(s, actor=school.learner, learner_id="amy", now=NOW)
        assert not view.stored
        goal = plans.parse_goal("Add unlike fractions", ["ops.add-unlike"], "2026-12-20", 0)
        saved = plans.save_plan(
            s,
            actor=school.learner,
            learner_id="amy",
            base_version=view.plan.version,
            goals=[goal],
            strategies=["15 minutes a day"],
            resources=[],
            mastery_evidence="a recipe project",
            now=NOW,
        )
        assert saved.version == 1
        plans.save_plan(
            s,
            actor=school.teacher,
            learner_id="amy",
            base_version=1,
            goals=[goal],
            strategies=["15 minutes a day", "ask a peer"],
            resources=[],
            mastery_evidence="a recipe project",
            now=NOW + timedelta(minutes=1),
        )
        with pytest.raises(Conflict):
            plans.save_plan(
                s,
                actor=school.learner,
                learner_id="amy",
                base_version=1,
                goals=[],
                strategies=[],
                resources=[],
                mastery_evidence="",
                now=NOW + timedelta(minutes=2),
            )
        plans.add_comment(s, actor=school.teacher, learner_id="amy", body="Nice goal", now=NOW)
        with pytest.raises(PermissionDenied):
            plans.add_comment(s, actor=school.guardian, learner_id="amy", body="Hi", now=NOW)
        view = plans.get_plan(s, actor=school.guardian, learner_id="amy", now=NOW)
        assert view.plan.version == 2
        assert [v.version for v in view.versions] == [2, 1]
        # Pages name who saved each version by display name, never by user id.
        assert view.names[school.teacher.id] == school.teacher.display_name
        assert view.names[school.learner.id] == school.learner.display_name
        assert set(view.names) == {v.saved_by for v in view.versions}
        assert [c.comment.body for c in view.comments] == ["Nice goal"]
        assert view.plan.goals[0].competency_ids == ("ops.add-unlike",)


def test_log_entries_are_private_until_shared(school):
    with school.db.session() as s:
        entry = learning_log.add_entry(
            s, actor=school.learner, learner_id="amy", body="Halves are easy now", now=NOW
        )
        assert not entry.shared
        assert learning_log.list_entries(s, actor=school.teacher, learner_id="amy", now=NOW) == []
        with pytest.raises(PermissionDenied):
            learning_log.add_entry(s, actor=school.teacher, learner_id="amy", body="x", now=NOW)
        learning_log.set_shared(
            s, actor=school.learner, learner_id="amy", entry_id=entry.id, shared=True, now=NOW
        )
        seen = learning_log.list_entries(s, actor=school.teacher, learner_id="amy", now=NOW)
        assert [e.id for e in seen] == [entry.id]
        assert learning_log.list_entries(s, actor=school.guardian, learner_id="amy", now=NOW) == []
