"""``zoped replay`` folds learners' evidence into their stored folds, in batches."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from tests.services.conftest import NOW
from zoped.cli import app
from zoped.services.pathways import learner_state
from zoped.store.tables import learner_folds

runner = CliRunner()


def test_replay_folds_every_learner_and_the_folds_match_the_log(school) -> None:
    result = runner.invoke(app, ["replay", "--db", school.db.url, "--batch", "2"])
    assert result.exit_code == 0, result.output
    assert "folded 3 learners" in result.output
    with school.db.session() as s:
        rows = {r.learner_id: r.n_events for r in s.execute(select(learner_folds))}
        assert set(rows) == {"amy", "bo", "zed"}
        assert rows["bo"] > 0
        # A read continues the stored fold: nothing new, so nothing is folded or rewritten.
        stamp = s.scalar(
            select(learner_folds.c.updated_at).where(learner_folds.c.learner_id == "bo")
        )
        learner_state(s, actor=school.teacher, learner_id="bo", now=NOW)
        again = s.scalar(
            select(learner_folds.c.updated_at).where(learner_folds.c.learner_id == "bo")
        )
    assert again == stamp


def test_replay_of_an_unknown_learner_fails_clearly(school) -> None:
    zoped = str(Path(sys.executable).parent / "zoped")
    command = [zoped, "replay", "--db", school.db.url, "--learner", "nobody"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2
    assert "no learner 'nobody'" in result.stderr
    assert "Traceback" not in result.stderr
