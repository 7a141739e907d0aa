"""numba kernels for :mod:`zoped.engine.bkt`: Baum-Welch over many small HMMs, and the filter.

Parameters travel as a float64 array whose last axis is :data:`PRIOR`, :data:`LEARN`,
:data:`GUESS`, :data:`SLIP`, :data:`FORGET`. Observations are int8 0/1.

Profiling the pure-numpy version showed the time goes into the per-step recursion of thousands
of short sequences, which numpy cannot vectorise along time; a compiled loop over the
(learner, skill) sequences removes the Python overhead and keeps every sequence in cache. The
whole EM loop of one (restart, skill) pair runs inside one call, so each pair stops on its own
convergence test and no per-iteration Python round trip is paid.
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray

from zoped.engine._jit import njit

PRIOR, LEARN, GUESS, SLIP, FORGET = 0, 1, 2, 3, 4
N_PARAMS = 5

# Keeps every probability away from 0 and 1 so that logs and divisions stay finite.
_EPS = 1e-6
# The online filter keeps P(known) and P(not known) at least this far from 0: nobody is ever
# certain to know a skill (or not), so every answer still moves the estimate, even after a long
# run of right (or wrong) answers.
P_BOUND = 1e-4


@njit(inline="always")
def _settle(p: float, q: float) -> tuple[float, float]:
    """(P(known), P(not known)) made to sum to 1 without losing the smaller one.

    The smaller of the two is kept as computed (full relative precision) and the larger is
    1 minus it. Keeping only P(known) would round P(not known) to 0 once it falls below
    1e-16, after a long run of correct answers; the filter would then stay at "known" through
    any number of wrong answers (on long sequences, such as ASSISTments' duplicated rows,
    that cost 0.015 AUC against pyBKT, which keeps both states).
    """
    if p < q:
        return p, 1.0 - p
    return 1.0 - q, q


def online_prior(prior: NDArray[np.float64]) -> NDArray[np.float64]:
    """The priors the online filter starts from: within [P_BOUND, 1 - P_BOUND], like every
    P(known) it reports."""
    out: NDArray[np.float64] = np.clip(np.asarray(prior, dtype=np.float64), P_BOUND, 1 - P_BOUND)
    return out


@njit()
def p_correct(p: Any, q: Any, guess: Any, slip: Any) -> Any:
    """P(correct) on a skill from (P(known), P(not known)): a knower answers right unless they
    slip, a non-knower only by a guess. Scalars or arrays (elementwise): every path that
    predicts an answer (the EM's filter, the online state, a fold, the simulator) calls this.
    """
    return p * (1.0 - slip) + q * guess


@njit()
def step(
    p: float, q: float, correct: int, learn: float, guess: float, slip: float, forget: float
) -> tuple[float, float]:
    """(P(known), P(not known)) after one answer and one transition (Bayes, then learning).

    The one online BKT step: the filter below, :meth:`BKT.update` and the simulator all call
    it. Two rules make it safe to show to a learner:

    * a wrong answer never raises P(known). Bayes lowers it, but the learning transition that
      follows can lift a low estimate above where it was (p=0.1, learn=0.3 gives 0.30 after a
      wrong answer); the estimate then stays where it was, and what the learner may have
      learned from the feedback counts once a later answer shows it.
    * P(known) and P(not known) stay within [P_BOUND, 1 - P_BOUND].
    """
    if correct:
        a = p * (1.0 - slip)
        b = q * guess
    else:
        a = p * slip
        b = q * (1.0 - guess)
    den = a + b
    post_k = a / den
    post_u = b / den
    nk, nu = _settle(
        post_k * (1.0 - forget) + post_u * learn, post_u * (1.0 - learn) + post_k * forget
    )
    if not correct and nk > p:
        nk, nu = p, q
    if nk < P_BOUND:
        return P_BOUND, 1.0 - P_BOUND
    if nu < P_BOUND:
        return 1.0 - P_BOUND, P_BOUND
    return nk, nu


@njit()
def step_cells(
    p_known: NDArray[np.float64],
    p_unknown: NDArray[np.float64],
    answered: NDArray[np.bool_],
    correct: NDArray[np.bool_],
    theta: NDArray[np.float64],
) -> None:
    """:func:`step` on every answered cell of ``(learners, skills)`` arrays, in place.

    ``correct`` holds one answer per learner; ``theta`` is ``(skills, N_PARAMS)``.
    """
    n_learners, n_skills = p_known.shape
    for r in range(n_learners):
        c = 1 if correct[r] else 0
        for k in range(n_skills):
            if answered[r, k]:
                p_known[r, k], p_unknown[r, k] = step(
                    p_known[r, k],
                    p_unknown[r, k],
                    c,
                    theta[k, LEARN],
                    theta[k, GUESS],
                    theta[k, SLIP],
                    theta[k, FORGET],
                )


@njit()
def _em_one(
    correct: NDArray[np.int8],
    seq_ptr: NDArray[np.int64],
    first_seq: int,
    last_seq: int,
    theta: NDArray[np.float64],
    max_iter: int,
    tol: float,
    forgetting: bool,
    max_guess: float,
    max_slip: float,
    max_sum: float,
    filt_k: NDArray[np.float64],
    filt_u: NDArray[np.float64],
) -> tuple[float, int]:
    """Baum-Welch for one skill from start values ``theta`` (updated in place).

    Returns the log-likelihood of the final ``theta`` and the number of E-steps done. ``tol``
    is on the change of the mean log-likelihood per observation, so it means the same for a
    skill with 100 answers and one with 100,000.
    """
    n_obs = seq_ptr[last_seq] - seq_ptr[first_seq]
    n_seq = last_seq - first_seq
    prev_ll = -np.inf
    ll = -np.inf
    it = 0
    while it < max_iter:
        it += 1
        prior = theta[PRIOR]
        learn = theta[LEARN]
        guess = theta[GUESS]
        slip = theta[SLIP]
        forget = theta[FORGET]
        ll = 0.0
        s_prior = 0.0
        s_learn_num = 0.0
        s_learn_den = 0.0
        s_forget_num = 0.0
        s_forget_den = 0.0
        s_guess_num = 0.0
        s_guess_den = 0.0
        s_slip_num = 0.0
        s_slip_den = 0.0
        for q in range(first_seq, last_seq):
            a = seq_ptr[q]
            n = seq_ptr[q + 1] - a
            # Forward pass: filtered P(known at t | answers up to t) and P(not known ...), both
            # kept (see _settle), scaled so no underflow.
            p = prior
            u = 1.0 - prior
            for t in range(n):
                c = correct[a + t]
                if c:
                    num_k = p * (1.0 - slip)
                    num_u = u * guess
                else:
                    num_k = p * slip
                    num_u = u * (1.0 - guess)
                den = num_k + num_u
                ll += math.log(den)
                fk = num_k / den
                fu = num_u / den
                filt_k[t] = fk
                filt_u[t] = fu
                p, u = _settle(fk * (1.0 - forget) + fu * learn, fu * (1.0 - learn) + fk * forget)
            # Backward pass on filtered posteriors (the two-state form of the RTS smoother):
            # P(K_t=i, K_t+1=j | all) = filt_t(i) A(i, j) smooth_t+1(j) / pred_t+1(j).
            gk = filt_k[n - 1]
            gu = filt_u[n - 1]
            c = correct[a + n - 1]
            s_guess_num += gu * c
            s_guess_den += gu
            s_slip_num += gk * (1 - c)
            s_slip_den += gk
            for t in range(n - 2, -1, -1):
                fk = filt_k[t]
                fu = filt_u[t]
                pred_k, pred_u = _settle(
                    fk * (1.0 - forget) + fu * learn, fu * (1.0 - learn) + fk * forget
                )
                # A predicted state of probability 0 makes a ratio 0/0; its joint terms are
                # then 0 anyway.
                rk = gk / pred_k if pred_k > 0.0 else 0.0
                ru = gu / pred_u if pred_u > 0.0 else 0.0
                x_uk = fu * learn * rk
                x_uu = fu * (1.0 - learn) * ru
                x_kk = fk * (1.0 - forget) * rk
                x_ku = fk * forget * ru
                gk = x_kk + x_ku
                gu = x_uk + x_uu
                s_learn_num += x_uk
                s_learn_den += gu
                s_forget_num += x_ku
                s_forget_den += gk
                c = correct[a + t]
                s_guess_num += gu * c
                s_guess_den += gu
                s_slip_num += gk * (1 - c)
                s_slip_den += gk
            s_prior += gk
        if abs(ll - prev_ll) < tol * n_obs:
            break
        prev_ll = ll
        # M-step, then the bounds that keep the solution identifiable (see the module docs of
        # zoped.engine.bkt): guess and slip capped, their sum bounded, all inside (0, 1).
        theta[PRIOR] = min(max(s_prior / n_seq, _EPS), 1.0 - _EPS)
        if s_learn_den > 0.0:
            theta[LEARN] = min(max(s_learn_num / s_learn_den, _EPS), 1.0 - _EPS)
        if s_guess_den > 0.0:
            theta[GUESS] = min(max(s_guess_num / s_guess_den, _EPS), max_guess)
        if s_slip_den > 0.0:
            theta[SLIP] = min(max(s_slip_num / s_slip_den, _EPS), max_slip)
        # guess + slip <= max_sum: P(correct | known) exceeds P(correct | not known) by at
        # least 1 - max_sum. The excess comes off both equally (the nearest point of the line).
        excess = theta[GUESS] + theta[SLIP] - max_sum
        if excess > 0.0:
            g = max(theta[GUESS] - 0.5 * excess, _EPS)
            theta[SLIP] = max(max_sum - g, _EPS)
            theta[GUESS] = max_sum - theta[SLIP]
        if forgetting and s_forget_den > 0.0:
            theta[FORGET] = min(max(s_forget_num / s_forget_den, _EPS), 1.0 - theta[LEARN])
    return ll, it


@njit(parallel=True)
def em_fit(
    correct: NDArray[np.int8],
    seq_ptr: NDArray[np.int64],
    skill_seq_ptr: NDArray[np.int64],
    jobs: NDArray[np.int64],
    theta: NDArray[np.float64],
    max_iter: int,
    tol: float,
    forgetting: bool,
    max_guess: float,
    max_slip: float,
    max_sum: float,
    max_len: int,
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Run EM for every (restart, skill) pair in ``jobs`` (shape (n_jobs, 2)).

    Args:
        correct: answers, grouped into sequences by ``seq_ptr`` and sequences by skill.
        seq_ptr: start of each (learner, skill) sequence, plus the end.
        skill_seq_ptr: first sequence of each skill, plus the end.
        jobs: (restart, skill) pairs, largest skills first so the threads finish together.
        theta: start values, shape (n_restarts, n_skills, N_PARAMS); fitted in place.
        max_len: the longest sequence (workspace size).

    Returns:
        The log-likelihood and the number of E-steps per (restart, skill).
    """
    n_restarts, n_skills = theta.shape[0], theta.shape[1]
    loglik = np.full((n_restarts, n_skills), -np.inf)
    n_iter = np.zeros((n_restarts, n_skills), dtype=np.int64)
    for j in numba.prange(jobs.shape[0]):
        r = jobs[j, 0]
        k = jobs[j, 1]
        filt_k = np.empty(max(max_len, 1), dtype=np.float64)
        filt_u = np.empty(max(max_len, 1), dtype=np.float64)
        ll, it = _em_one(
            correct,
            seq_ptr,
            skill_seq_ptr[k],
            skill_seq_ptr[k + 1],
            theta[r, k],
            max_iter,
            tol,
            forgetting,
            max_guess,
            max_slip,
            max_sum,
            filt_k,
            filt_u,
        )
        loglik[r, k] = ll
        n_iter[r, k] = it
    return loglik, n_iter


# Keeps the running product of the per-answer likelihoods of a skill within float range:
# its log joins the total when it falls below this (every factor is in (0, 1]).
_RESCALE = 1e-250


@njit()
def _em_group(
    correct: NDArray[np.int8],
    seq_ptr: NDArray[np.int64],
    first_seq: int,
    last_seq: int,
    theta: NDArray[np.float64],
    max_iter: int,
    tol: float,
    forgetting: bool,
    max_guess: float,
    max_slip: float,
    max_sum: float,
    work: NDArray[np.float64],
    loglik: NDArray[np.float64],
    n_iter: NDArray[np.int64],
) -> None:
    """Baum-Welch for one skill from several start values at once: ``theta`` is (g, N_PARAMS).

    The same EM as :func:`_em_one` for each row of ``theta`` (each stops on its own test), but
    one pass over the skill's answers serves every restart: the innermost loops run over the
    restarts, so the restarts' independent recursions overlap in the CPU instead of each
    waiting on its own chain of divisions, and every answer is read once per E-step, not once
    per restart. The log-likelihood is summed as a running product over the skill's answers
    (one log per few hundred answers, not one per answer or per sequence: most sequences are
    short, a median of 1-5 answers). A restart that has converged leaves the active set (its
    slot is swapped with the last active one), so the loops cover only live restarts.
    """
    g = theta.shape[0]
    n_obs = seq_ptr[last_seq] - seq_ptr[first_seq]
    n_seq = last_seq - first_seq
    # Parameters of live restarts in slots 0..n_live-1; who[s] is the restart in slot s.
    who = np.arange(g)
    prm = np.empty((N_PARAMS, g))
    for r in range(g):
        for j in range(N_PARAMS):
            prm[j, r] = theta[r, j]
    prev_ll = np.full(g, -np.inf)
    ll = np.zeros(g)
    acc = np.ones(g)
    p = np.empty(g)
    u = np.empty(g)
    gk = np.empty(g)
    gu = np.empty(g)
    sums = np.zeros((10, g))
    n_live = g
    it = 0
    while n_live > 0 and it < max_iter:
        it += 1
        sums[:, :n_live] = 0.0
        ll[:n_live] = 0.0
        acc[:n_live] = 1.0
        prior = prm[PRIOR]
        learn = prm[LEARN]
        guess = prm[GUESS]
        slip = prm[SLIP]
        forget = prm[FORGET]
        for q in range(first_seq, last_seq):
            a = seq_ptr[q]
            n = seq_ptr[q + 1] - a
            for s in range(n_live):
                p[s] = prior[s]
                u[s] = 1.0 - prior[s]
            for t in range(n):
                base = 2 * t * g
                c = correct[a + t]
                for s in range(n_live):
                    if c:
                        num_k = p[s] * (1.0 - slip[s])
                        num_u = u[s] * guess[s]
                    else:
                        num_k = p[s] * slip[s]
                        num_u = u[s] * (1.0 - guess[s])
                    den = num_k + num_u
                    acc[s] *= den
                    fk = num_k / den
                    fu = num_u / den
                    work[base + s] = fk
                    work[base + g + s] = fu
                    nk = fk * (1.0 - forget[s]) + fu * learn[s]
                    nu = fu * (1.0 - learn[s]) + fk * forget[s]
                    p[s] = nk if nk < nu else 1.0 - nu
                    u[s] = 1.0 - nk if nk < nu else nu
                for s in range(n_live):
                    if acc[s] < _RESCALE:
                        ll[s] += math.log(acc[s])
                        acc[s] = 1.0
            base = 2 * (n - 1) * g
            c = correct[a + n - 1]
            for s in range(n_live):
                gk[s] = work[base + s]
                gu[s] = work[base + g + s]
                sums[6, s] += gu[s] * c
                sums[7, s] += gu[s]
                sums[8, s] += gk[s] * (1 - c)
                sums[9, s] += gk[s]
            for t in range(n - 2, -1, -1):
                base = 2 * t * g
                c = correct[a + t]
                for s in range(n_live):
                    fk = work[base + s]
                    fu = work[base + g + s]
                    nk = fk * (1.0 - forget[s]) + fu * learn[s]
                    nu = fu * (1.0 - learn[s]) + fk * forget[s]
                    pred_k = nk if nk < nu else 1.0 - nu
                    pred_u = 1.0 - nk if nk < nu else nu
                    rk = gk[s] / pred_k if pred_k > 0.0 else 0.0
                    ru = gu[s] / pred_u if pred_u > 0.0 else 0.0
                    x_uk = fu * learn[s] * rk
                    x_uu = fu * (1.0 - learn[s]) * ru
                    x_kk = fk * (1.0 - forget[s]) * rk
                    x_ku = fk * forget[s] * ru
                    k_now = x_kk + x_ku
                    u_now = x_uk + x_uu
                    gk[s] = k_now
                    gu[s] = u_now
                    sums[1, s] += x_uk
                    sums[2, s] += u_now
                    sums[3, s] += x_ku
                    sums[4, s] += k_now
                    sums[6, s] += u_now * c
                    sums[7, s] += u_now
                    sums[8, s] += k_now * (1 - c)
                    sums[9, s] += k_now
            for s in range(n_live):
                sums[0, s] += gk[s]
        for s in range(n_live):
            ll[s] += math.log(acc[s])
        # Convergence test and M-step per live restart; converged ones leave the live set.
        s = 0
        while s < n_live:
            r = who[s]
            if abs(ll[s] - prev_ll[s]) < tol * n_obs or it == max_iter:
                converged = abs(ll[s] - prev_ll[s]) < tol * n_obs
                if not converged:
                    # Out of iterations: M-step once more, as _em_one does, then stop.
                    _m_step(prm, sums, s, n_seq, forgetting, max_guess, max_slip, max_sum)
                for j in range(N_PARAMS):
                    theta[r, j] = prm[j, s]
                loglik[r] = ll[s]
                n_iter[r] = it
                n_live -= 1
                if s != n_live:
                    who[s] = who[n_live]
                    prev_ll[s] = prev_ll[n_live]
                    ll[s] = ll[n_live]
                    for j in range(N_PARAMS):
                        prm[j, s] = prm[j, n_live]
                    for j in range(10):
                        sums[j, s] = sums[j, n_live]
                continue
            prev_ll[s] = ll[s]
            _m_step(prm, sums, s, n_seq, forgetting, max_guess, max_slip, max_sum)
            s += 1


@njit(inline="always")
def _m_step(
    prm: NDArray[np.float64],
    sums: NDArray[np.float64],
    s: int,
    n_seq: int,
    forgetting: bool,
    max_guess: float,
    max_slip: float,
    max_sum: float,
) -> None:
    """The M-step of :func:`_em_one` for slot ``s`` of a :func:`_em_group` (same bounds)."""
    prm[PRIOR, s] = min(max(sums[0, s] / n_seq, _EPS), 1.0 - _EPS)
    if sums[2, s] > 0.0:
        prm[LEARN, s] = min(max(sums[1, s] / sums[2, s], _EPS), 1.0 - _EPS)
    if sums[7, s] > 0.0:
        prm[GUESS, s] = min(max(sums[6, s] / sums[7, s], _EPS), max_guess)
    if sums[9, s] > 0.0:
        prm[SLIP, s] = min(max(sums[8, s] / sums[9, s], _EPS), max_slip)
    excess = prm[GUESS, s] + prm[SLIP, s] - max_sum
    if excess > 0.0:
        gg = max(prm[GUESS, s] - 0.5 * excess, _EPS)
        prm[SLIP, s] = max(max_sum - gg, _EPS)
        prm[GUESS, s] = max_sum - prm[SLIP, s]
    if forgetting and sums[4, s] > 0.0:
        prm[FORGET, s] = min(max(sums[3, s] / sums[4, s], _EPS), 1.0 - prm[LEARN, s])


@njit(parallel=True)
def em_fit_grouped(
    correct: NDArray[np.int8],
    seq_ptr: NDArray[np.int64],
    skill_seq_ptr: NDArray[np.int64],
    jobs: NDArray[np.int64],
    worker_ptr: NDArray[np.int64],
    theta: NDArray[np.float64],
    max_iter: int,
    tol: float,
    forgetting: bool,
    max_guess: float,
    max_slip: float,
    max_sum: float,
    max_len: int,
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """:func:`em_fit` with jobs of several restarts of one skill: rows (skill, first, end).

    Each job runs :func:`_em_group` on restarts ``first..end-1`` of its skill. Worker ``w``
    (one per thread) runs the jobs ``worker_ptr[w]:worker_ptr[w + 1]``: the caller balances
    the work between them, since numba gives each thread an equal slice of the loop.
    """
    n_restarts, n_skills = theta.shape[0], theta.shape[1]
    loglik = np.full((n_restarts, n_skills), -np.inf)
    n_iter = np.zeros((n_restarts, n_skills), dtype=np.int64)
    for w in numba.prange(worker_ptr.shape[0] - 1):
        for j in range(worker_ptr[w], worker_ptr[w + 1]):
            k = jobs[j, 0]
            r0 = jobs[j, 1]
            r1 = jobs[j, 2]
            work = np.empty(2 * max(max_len, 1) * (r1 - r0), dtype=np.float64)
            _em_group(
                correct,
                seq_ptr,
                skill_seq_ptr[k],
                skill_seq_ptr[k + 1],
                theta[r0:r1, k],
                max_iter,
                tol,
                forgetting,
                max_guess,
                max_slip,
                max_sum,
                work,
                loglik[r0:r1, k],
                n_iter[r0:r1, k],
            )
    return loglik, n_iter


@njit()
def forward_filter(
    learner: NDArray[np.int64],
    skill_ptr: NDArray[np.int64],
    skill_idx: NDArray[np.int64],
    correct: NDArray[np.int8],
    theta: NDArray[np.float64],
    product: bool,
    final: NDArray[np.float64],
) -> NDArray[np.float64]:
    """P(correct) of each row from the same learner's earlier rows; the online update, batched.

    Rows must be grouped by learner. A row with several skills predicts the product (or the
    mean) of its skills' P(correct), then updates each of its skills with the row's answer.
    ``final`` (n_learners, n_skills), if not empty, receives each learner's P(known) after
    their last row (skills never seen keep the prior written there by the caller).

    The arithmetic is written exactly as in ``BKT.update`` and ``BKT.predict_one``, in the
    same order, so replaying events online gives the same floats.
    """
    n = correct.shape[0]
    n_skills = theta.shape[0]
    out = np.empty(n, dtype=np.float64)
    p_known = np.empty(n_skills, dtype=np.float64)
    p_unknown = np.empty(n_skills, dtype=np.float64)
    # stamp[k] == current learner marks skills this learner has touched: no O(skills) reset.
    stamp = np.full(n_skills, -1, dtype=np.int64)
    keep_final = final.shape[0] > 0
    for r in range(n):
        who = learner[r]
        a = skill_ptr[r]
        b = skill_ptr[r + 1]
        acc = 1.0 if product else 0.0
        for i in range(a, b):
            k = skill_idx[i]
            if stamp[k] != who:
                stamp[k] = who
                p_known[k] = min(max(theta[k, PRIOR], P_BOUND), 1.0 - P_BOUND)
                p_unknown[k] = 1.0 - p_known[k]
            pc = p_correct(p_known[k], p_unknown[k], theta[k, GUESS], theta[k, SLIP])
            acc = acc * pc if product else acc + pc
        if b == a:
            out[r] = np.nan
        elif product:
            out[r] = acc
        else:
            out[r] = acc / (b - a)
        c = correct[r]
        for i in range(a, b):
            k = skill_idx[i]
            p_known[k], p_unknown[k] = step(
                p_known[k],
                p_unknown[k],
                c,
                theta[k, LEARN],
                theta[k, GUESS],
                theta[k, SLIP],
                theta[k, FORGET],
            )
            if keep_final:
                final[who, k] = p_known[k]
    return out
