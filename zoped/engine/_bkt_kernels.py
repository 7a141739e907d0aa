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

PRIOR, LEARN, GUESS, SLIP, FORGET = 0, 1, 2, 3, 4
N_PARAMS = 5

# Keeps every probability away from 0 and 1 so that logs and divisions stay finite.
_EPS = 1e-6
# The online filter keeps P(known) and P(not known) at least this far from 0: nobody is ever
# certain to know a skill (or not), so every answer still moves the estimate, even after a long
# run of right (or wrong) answers.
P_BOUND = 1e-4


@numba.njit(cache=True, inline="always")
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


@numba.njit(cache=True)
def p_correct(p: Any, q: Any, guess: Any, slip: Any) -> Any:
    """P(correct) on a skill from (P(known), P(not known)): a knower answers right unless they
    slip, a non-knower only by a guess. Scalars or arrays (elementwise): every path that
    predicts an answer (the EM's filter, the online state, a fold, the simulator) calls this.
    """
    return p * (1.0 - slip) + q * guess


@numba.njit(cache=True)
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


@numba.njit(cache=True)
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


@numba.njit(cache=True)
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


@numba.njit(cache=True, parallel=True)
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


@numba.njit(cache=True)
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
