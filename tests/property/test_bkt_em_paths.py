"""The fast EM path (all restarts of a skill in one pass) fits what the straightforward one
fits: one (restart, skill) at a time, :func:`zoped.engine._bkt_kernels.em_fit`."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from zoped.engine import _bkt_kernels as kernels
from zoped.engine.base import InteractionLog
from zoped.engine.bkt import BKT, _em_jobs, _sequences_by_skill


@st.composite
def small_logs(draw: st.DrawFn) -> InteractionLog:
    """A few learners answering 1-4 skills, in runs (repeated attempts) or interleaved."""
    n_skills = draw(st.integers(1, 4))
    rows: list[tuple[int, int, int]] = []
    for learner in range(draw(st.integers(1, 6))):
        for _ in range(draw(st.integers(1, 5))):
            skill = draw(st.integers(0, n_skills - 1))
            run = draw(st.integers(1, 40))
            # A run is mostly one answer repeated (long runs of right or wrong answers) with a
            # few flips, or drawn freely.
            base = draw(st.booleans())
            flips = draw(st.lists(st.integers(0, run - 1), max_size=3))
            free = draw(st.booleans())
            for t in range(run):
                c = draw(st.booleans()) if free else base != (t in flips)
                rows.append((learner, skill, int(c)))
    n = len(rows)
    return InteractionLog(
        learner=np.array([r[0] for r in rows], dtype=np.int64),
        item=np.full(n, -1, dtype=np.int64),
        skill_ptr=np.arange(n + 1, dtype=np.int64),
        skill_idx=np.array([r[1] for r in rows], dtype=np.int64),
        correct=np.array([r[2] for r in rows], dtype=np.int8),
        order=np.arange(n, dtype=np.float64),
        learner_ids=np.arange(int(rows[-1][0]) + 1),
        skill_ids=np.array([f"s{k}" for k in range(n_skills)]),
        item_ids=np.array([], dtype=np.int64),
    )


@settings(max_examples=150, deadline=None)
@given(
    log=small_logs(),
    n_restarts=st.integers(1, 7),
    n_threads=st.integers(1, 8),
    max_iter=st.integers(1, 60),
    tol=st.sampled_from([0.0, 1e-7, 1e-4, 1e-2]),
    forgetting=st.booleans(),
    caps=st.sampled_from([(1.0, 1.0, 0.95), (0.3, 0.3, 0.95), (1.0, 1.0, 0.5)]),
    seed=st.integers(0, 2**16),
)
def test_all_restarts_in_one_pass_fit_what_one_restart_at_a_time_fits(
    log: InteractionLog,
    n_restarts: int,
    n_threads: int,
    max_iter: int,
    tol: float,
    forgetting: bool,
    caps: tuple[float, float, float],
    seed: int,
) -> None:
    correct, seq_ptr, skill_seq_ptr = _sequences_by_skill(log)
    n_obs = seq_ptr[skill_seq_ptr[1:]] - seq_ptr[skill_seq_ptr[:-1]]
    has_data = np.flatnonzero(n_obs > 0)
    max_len = int(np.diff(seq_ptr).max())
    model = BKT(n_restarts=n_restarts, forgetting=forgetting)
    start = model._start_values(np.random.default_rng(seed), log.n_skills)
    settings_ = (max_iter, tol, forgetting, *caps, max_len)

    one_jobs = np.array([(r, k) for r in range(n_restarts) for k in has_data], dtype=np.int64)
    theta_one = start.copy()
    ll_one, it_one = kernels.em_fit(
        correct, seq_ptr, skill_seq_ptr, one_jobs.reshape(-1, 2), theta_one, *settings_
    )
    # Any cut of the restarts into jobs (n_threads decides it) gives the same numbers.
    jobs, worker_ptr = _em_jobs(n_obs[has_data], has_data, n_restarts, n_threads)
    theta_fast = start.copy()
    ll_fast, it_fast = kernels.em_fit_grouped(
        correct, seq_ptr, skill_seq_ptr, jobs, worker_ptr, theta_fast, *settings_
    )
    np.testing.assert_array_equal(it_fast, it_one)
    # Same arithmetic per restart: only the log-likelihood is summed differently (a product
    # per sequence), so it may differ in the last bits; the parameters agree exactly unless
    # that ever flips a convergence test, which the equal E-step counts above rule out.
    np.testing.assert_array_equal(theta_fast[:, has_data], theta_one[:, has_data])
    np.testing.assert_allclose(ll_fast[:, has_data], ll_one[:, has_data], rtol=1e-10)


@given(
    n_obs=st.lists(st.integers(1, 10_000), min_size=1, max_size=30),
    n_restarts=st.integers(1, 9),
    n_threads=st.integers(1, 16),
)
def test_em_jobs_cover_every_restart_once_and_balance_the_threads(
    n_obs: list[int], n_restarts: int, n_threads: int
) -> None:
    skills = np.arange(len(n_obs), dtype=np.int64) * 2  # skills without answers are left out
    jobs, worker_ptr = _em_jobs(np.array(n_obs), skills, n_restarts, n_threads)
    covered = sorted((int(k), r) for k, a, b in jobs for r in range(a, b))
    assert covered == sorted((int(k), r) for k in skills for r in range(n_restarts))
    assert worker_ptr.shape == (n_threads + 1,)
    assert worker_ptr[0] == 0
    assert worker_ptr[-1] == jobs.shape[0]
    assert (np.diff(worker_ptr) >= 0).all()
    if len(n_obs) >= 2 * n_threads:
        assert jobs.shape[0] == len(n_obs)  # enough skills: one job per skill
    else:
        assert jobs.shape[0] >= min(2 * n_threads, len(n_obs) * n_restarts)
    # Dealt largest first to the least loaded thread: no thread carries more than the
    # lightest one plus the largest job (the greedy bound).
    cost = np.array(n_obs)[jobs[:, 0] // 2] * (jobs[:, 2] - jobs[:, 1])
    loads = np.array([cost[a:b].sum() for a, b in pairwise(worker_ptr.tolist())])
    assert loads.max() <= loads.min() + cost.max()


def test_the_largest_skills_do_not_all_go_to_one_thread() -> None:
    n_obs = np.array([1000, 900, 800, 700, 10, 10, 10, 10])
    jobs, worker_ptr = _em_jobs(n_obs, np.arange(8), 5, 2)
    first = set(jobs[worker_ptr[0] : worker_ptr[1], 0].tolist())
    assert first & {0, 1, 2, 3}
    assert {0, 1, 2, 3} - first
