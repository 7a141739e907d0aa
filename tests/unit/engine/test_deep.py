"""DKT, SAKT and AKT: learn a synthetic skill structure, stay causal, replay == batch, save/load."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from zoped.engine.base import Interaction, InteractionLog, LearnerModel
from zoped.errors import InvalidInput, NotFitted

torch = pytest.importorskip("torch")

from zoped.engine.deep.akt import AKT  # noqa: E402
from zoped.engine.deep.dkt import DKT  # noqa: E402
from zoped.engine.deep.sakt import SAKT  # noqa: E402


def synthetic_log(n_learners: int, length: int, seed: int) -> InteractionLog:
    """Each learner has a hidden ability per skill; skill 1 and 3 rows also carry skill 0.

    Outcomes depend on the learner, so the history predicts the future well above chance.
    """
    rng = np.random.default_rng(seed)
    n_skills = 4
    learner, ptr, idx, correct = [], [0], [], []
    for u in range(n_learners):
        ability = rng.normal(0, 2.0, size=n_skills)
        for _ in range(length):
            k = int(rng.integers(n_skills))
            skills = [k, 0] if k in (1, 3) else [k]
            p = 1 / (1 + np.exp(-ability[skills].mean()))
            learner.append(u)
            idx.extend(skills)
            ptr.append(len(idx))
            correct.append(int(rng.random() < p))
    n = len(learner)
    return InteractionLog(
        learner=np.array(learner, dtype=np.int64),
        item=np.full(n, -1, dtype=np.int64),
        skill_ptr=np.array(ptr, dtype=np.int64),
        skill_idx=np.array(idx, dtype=np.int64),
        correct=np.array(correct, dtype=np.int8),
        order=np.arange(n, dtype=np.float64),
        learner_ids=np.arange(n_learners),
        skill_ids=np.arange(n_skills),
        item_ids=np.array([]),
    )


def auc(y: np.ndarray, p: np.ndarray) -> float:
    order = np.argsort(p, kind="stable")
    ranks = np.empty(len(p))
    ranks[order] = np.arange(1, len(p) + 1)
    n1 = y.sum()
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * (len(y) - n1)))


def replay(model: Any, log: InteractionLog) -> np.ndarray:
    out = np.empty(len(log))
    bounds = log.learner_bounds()
    for a, b in itertools.pairwise(bounds):
        state = model.new_state()
        for r in range(a, b):
            skills = tuple(int(k) for k in log.skill_idx[log.skill_ptr[r] : log.skill_ptr[r + 1]])
            event = Interaction(skills, bool(log.correct[r]), item=int(log.item[r]))
            out[r] = model.predict_one(state, event)
            model.update(state, event)
    return out


@pytest.fixture(scope="module")
def logs() -> tuple[InteractionLog, InteractionLog]:
    return synthetic_log(96, 50, seed=1), synthetic_log(30, 50, seed=2)


def make(cls: type[DKT] | type[SAKT] | type[AKT]) -> DKT | SAKT | AKT:
    # A window shorter than the sequences exercises carried state (DKT), sliding keys (SAKT)
    # and prediction blocks with context (AKT).
    return cls(hidden=32, window=25, epochs=5, batch_size=16, lr=1e-2, seed=0, device="cpu")


@pytest.fixture(scope="module", params=[DKT, SAKT, AKT], ids=["dkt", "sakt", "akt"])
def fitted(
    request: pytest.FixtureRequest, logs: tuple[InteractionLog, InteractionLog]
) -> DKT | SAKT | AKT:
    return make(request.param).fit(logs[0])


def test_follows_the_protocol(fitted: DKT | SAKT | AKT) -> None:
    assert isinstance(fitted, LearnerModel)
    assert fitted.name in ("dkt", "sakt", "akt")


def test_beats_chance_clearly_on_held_out_learners(
    fitted: DKT | SAKT | AKT, logs: tuple[InteractionLog, InteractionLog]
) -> None:
    test = logs[1]
    p = fitted.predict_proba(test)
    assert np.all((p > 0) & (p < 1))
    assert auc(test.correct.astype(int), p) > 0.68
    losses = fitted.fit_summary["train_loss"]
    assert losses[-1] < losses[0]


def test_prediction_is_causal(
    fitted: DKT | SAKT | AKT, logs: tuple[InteractionLog, InteractionLog]
) -> None:
    """Flipping the outcome of row r changes no prediction at or before r: in the middle of a
    sequence, and at its first rows, where AKT's retriever sees no earlier answer at all."""
    test = logs[1].take_learners(np.array([0]))
    before = fitted.predict_proba(test)
    for r in (0, 1, 2, 3, 20):
        flipped = np.array(test.correct, copy=True)
        flipped[r] = 1 - flipped[r]
        changed = InteractionLog(**{**test.__dict__, "correct": flipped})
        after = fitted.predict_proba(changed)
        np.testing.assert_array_equal(before[: r + 1], after[: r + 1], err_msg=f"row {r}")
        assert not np.allclose(before[r + 1 :], after[r + 1 :])


def test_replay_equals_batch(
    fitted: DKT | SAKT | AKT, logs: tuple[InteractionLog, InteractionLog]
) -> None:
    test = logs[1].take_learners(np.arange(3))
    # float32 sums over differently padded blocks differ in the last digits
    np.testing.assert_allclose(replay(fitted, test), fitted.predict_proba(test), atol=1e-4)


def test_same_seed_gives_same_model(logs: tuple[InteractionLog, InteractionLog]) -> None:
    small = logs[0].take_learners(np.arange(20))
    a = DKT(hidden=8, window=25, epochs=1, seed=3, device="cpu").fit(small)
    b = DKT(hidden=8, window=25, epochs=1, seed=3, device="cpu").fit(small)
    np.testing.assert_array_equal(a.predict_proba(small), b.predict_proba(small))


def test_save_load_round_trip(
    fitted: DKT | SAKT | AKT, logs: tuple[InteractionLog, InteractionLog], tmp_path: Path
) -> None:
    path = tmp_path / "model.npz"
    fitted.save(path)
    again = type(fitted).load(path, device="cpu")
    test = logs[1].take_learners(np.arange(5))
    np.testing.assert_allclose(again.predict_proba(test), fitted.predict_proba(test), atol=1e-6)
    other = SAKT if isinstance(fitted, DKT) else DKT
    with pytest.raises(InvalidInput, match="not a"):
        other.load(path)
    (tmp_path / "junk.npz").write_bytes(b"junk")
    with pytest.raises(InvalidInput, match="cannot read"):
        type(fitted).load(tmp_path / "junk.npz")


def test_errors_before_fit_and_on_bad_options(logs: tuple[InteractionLog, InteractionLog]) -> None:
    with pytest.raises(NotFitted):
        DKT().predict_proba(logs[1])
    with pytest.raises(InvalidInput) as info:
        SAKT(hidden=0, lr=-1.0, dropout=1.0)
    assert {p.location for p in info.value.problems} == {"hidden", "lr", "dropout"}


def test_modules_import_without_loading_torch() -> None:
    code = (
        "import sys; import zoped.engine.deep.dkt, zoped.engine.deep.sakt, zoped.engine.deep.akt; "
        "assert 'torch' not in sys.modules, 'torch imported eagerly'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def item_log(n_learners: int, seed: int, *, with_items: bool = True) -> InteractionLog:
    """Two skills, 30 items each with a fixed difficulty that matters more than the learner."""
    rng = np.random.default_rng(seed)
    items = np.random.default_rng(99).normal(0, 2.0, size=30)
    skill_of = np.arange(30) % 2
    learner, item, skill, correct = [], [], [], []
    for u in range(n_learners):
        ability = rng.normal(0, 1.0, size=2)
        for q in rng.integers(30, size=40):
            learner.append(u)
            item.append(int(q))
            skill.append(int(skill_of[q]))
            correct.append(int(rng.random() < 1 / (1 + np.exp(items[q] - ability[skill_of[q]]))))
    n = len(learner)
    return InteractionLog(
        learner=np.array(learner, dtype=np.int64),
        item=np.array(item if with_items else [-1] * n, dtype=np.int64),
        skill_ptr=np.arange(n + 1, dtype=np.int64),
        skill_idx=np.array(skill, dtype=np.int64),
        correct=np.array(correct, dtype=np.int8),
        order=np.arange(n, dtype=np.float64),
        learner_ids=np.arange(n_learners),
        skill_ids=np.arange(2),
        item_ids=np.arange(30 if with_items else 0),
    )


def test_akt_item_difficulty_helps_where_items_differ() -> None:
    """The Rasch scalar per item carries what the two skills cannot: AUC rises with items."""
    options = {"hidden": 16, "heads": 2, "window": 20, "epochs": 6, "lr": 1e-2, "device": "cpu"}
    scores = {}
    for with_items in (True, False):
        train, test = item_log(80, 1, with_items=with_items), item_log(30, 2, with_items=with_items)
        model = AKT(**options, l2=0.0).fit(train)  # type: ignore[arg-type]
        scores[with_items] = auc(test.correct.astype(int), model.predict_proba(test))
    assert scores[True] > scores[False] + 0.05, scores
    difficulty = model.net.difficulty.weight.detach().numpy()
    assert model.n_items == 0
    assert np.all(difficulty == 0)  # no items: the padding scalar only, never trained


def test_akt_new_items_and_bad_options() -> None:
    train = item_log(20, 1)
    model = AKT(hidden=8, heads=2, window=10, epochs=1, device="cpu").fit(train)
    unseen = InteractionLog(**{**item_log(3, 5).__dict__, "item": np.full(120, 77, dtype=np.int64)})
    p = model.predict_proba(unseen)  # an item it never saw is asked like its concept
    assert np.all((p > 0) & (p < 1))
    with pytest.raises(InvalidInput) as info:
        AKT(hidden=10, heads=4, window=1, l2=-1.0)
    assert {p.location for p in info.value.problems} == {"heads", "window", "l2"}


def test_after_epoch_sees_each_epoch_and_can_stop_training(
    logs: tuple[InteractionLog, InteractionLog],
) -> None:
    small = logs[0].take_learners(np.arange(10))
    seen: list[tuple[int, bool]] = []

    def stop_after_two(epoch: int, model: AKT) -> bool:
        seen.append((epoch, model.net.training))
        return epoch < 2

    model = AKT(hidden=8, heads=2, window=10, epochs=5, device="cpu")
    model.fit(small, after_epoch=stop_after_two)
    assert seen == [(1, False), (2, False)]  # scored in evaluation mode, stopped after two
    assert len(model.fit_summary["train_loss"]) == 2


def test_row_weighted_loss_weighs_every_row_the_same() -> None:
    """AKT's steps group windows of similar length: with the row-weighted loss a step of 2
    short rows and a step of 30 long ones add up to the loss of one step holding all 32 rows,
    while the mean per step would give each short row 15 times a long row's weight."""
    from zoped.engine.deep._common import batch_loss

    g = torch.Generator().manual_seed(0)
    logits = torch.randn(32, generator=g)
    target = (torch.rand(32, generator=g) < 0.5).float()
    short, long_ = slice(0, 2), slice(2, 32)

    def step(part: slice, weighted: bool) -> float:
        loss, _ = batch_loss(torch, logits[part], target[part], 0.0, 8, weighted)
        return float(loss)

    whole = step(slice(0, 32), True)
    assert step(short, True) + step(long_, True) == pytest.approx(whole, rel=1e-6)
    assert step(short, False) + step(long_, False) != pytest.approx(whole, rel=1e-2)
    assert (AKT.row_weighted, DKT.row_weighted, SAKT.row_weighted) == (True, False, False)
