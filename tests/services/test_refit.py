"""A refit re-derives every learner's levels and reports the differences before it is applied."""

from __future__ import annotations

import numpy as np

from tests.conftest import DEMO_NOW
from tests.services._school import fresh_demo_db, user
from zoped.engine.bkt import BKT
from zoped.engine.memory import MemoryModel, MemoryParameters
from zoped.services.courses import get_course
from zoped.services.models import PlatformModels, default_bkt_params, platform_models, store_models
from zoped.services.pathways import learner_state
from zoped.services.refit import apply_refit, preview_refit


def test_refit_previews_every_level_change_and_stores_only_when_applied(tmp_path):
    database = fresh_demo_db(tmp_path)
    admin = user(database, "admin")
    with database.session() as s:
        course_id = "fractions-ratios"
        course = get_course(s, course_id=course_id)
        fitted = platform_models(s, course=course)
        assert fitted.fitted
        # The same log refits to the same parameters: nothing would change.
        unchanged = preview_refit(s, course_id=course_id, now=DEMO_NOW)
    assert unchanged.fitted
    assert unchanged.n_learners == 60
    assert unchanged.changes == ()

    # Put hand-set default parameters in place, as an older release might have left them.
    ids = np.asarray(course.framework.ids, dtype=object)
    defaults = PlatformModels(
        course_id,
        BKT.from_params(default_bkt_params(course), ids),
        MemoryModel(MemoryParameters()),
        True,
        fitted.n_answers,
    )
    with database.session() as s:
        store_models(s, models=defaults, now=DEMO_NOW)
        preview = preview_refit(s, course_id=course_id, now=DEMO_NOW)
    assert preview.changes, "default and fitted parameters derive different levels"
    assert preview.learners_affected <= preview.n_learners
    assert preview.n_raised + preview.n_lowered == len(preview.changes)

    # The preview stored nothing: learners still see the levels the preview calls "before".
    change = preview.changes[0]
    with database.session() as s:
        shown = learner_state(s, actor=admin, learner_id=change.learner_id, now=DEMO_NOW)
    assert shown.get(change.competency_id).level is change.before

    with database.session() as s:
        assert apply_refit(s, preview=preview, now=DEMO_NOW)
    with database.session() as s:
        shown = learner_state(s, actor=admin, learner_id=change.learner_id, now=DEMO_NOW)
        assert shown.get(change.competency_id).level is change.after
        assert preview_refit(s, course_id=course_id, now=DEMO_NOW).changes == ()
    database.dispose()
