"""Bayesian Knowledge Tracing: one two-state HMM per skill, fitted by EM, batched.

Model. For each skill, a learner either knows it or not. ``prior`` is P(known) before the first
answer; after each answer the learner moves from not-known to known with probability ``learn``
(and, with ``forgetting=True``, from known to not-known with ``forget``). An answer is correct
with probability ``1 - slip`` when the skill is known and ``guess`` when it is not.

Fitting. Every (learner, skill) sequence is an independent HMM with its skill's parameters.
Baum-Welch runs for all skills and all random restarts at once in a compiled kernel
(:mod:`zoped.engine._bkt_kernels`), the skills in parallel and all restarts of a skill in one
pass over its answers; each (restart, skill) pair stops on its own when the mean
log-likelihood per answer changes by less than ``tol``. Per skill, the restart with the best
likelihood is kept, as pyBKT's ``num_fits`` does.

Degenerate solutions. EM happily finds solutions where the two states predict the same
answers ("knowers who slip half the time"), or where a correct answer is evidence of *not*
knowing (``guess + slip >= 1``). After every M-step the fit keeps
``(1 - slip) - guess >= min_gap`` (0.05 by default): knowing the skill must raise P(correct)
by at least 5 points, otherwise "known" means nothing and mastery decisions on the skill are
noise. This is the identifiability condition ``guess + slip < 1`` with a margin, and it holds
for every dataset alike. Optional caps ``max_guess`` and ``max_slip`` (none by default) bound
each parameter too. The old default caps of 0.3 each cost AUC wherever steps are easy to
guess: in the Cognitive Tutor logs (KDD Cup 2010) pyBKT's guess reaches 0.65 on many skills,
and the 0.3 caps lost 0.01 AUC there and 0.002-0.015 elsewhere (``bench/results/models.md``).
``forget`` is capped at ``1 - learn`` so the transition never reverses what it learned.

Multi-skill rows. A row may carry several skills (a CSR list in the log). Decision:

- During fitting, the row is an observation of *each* of its skills' HMMs, with the row's
  answer, as pyBKT does when such rows are duplicated once per skill.
- Online and in ``predict_proba``, the row's answer updates *every* one of its skills, so a
  learner who keeps answering a multi-skill item correctly masters all of them (never averaged
  into one unmasterable lesson).
- The row's P(correct) is the mean of its skills' P(correct) (``combine="mean"``, the
  default) or their product (``combine="product"``, a conjunctive item: every skill needed).
  Mean is the default because it predicted better: on ASSISTments 2009 (Gervet et al. 80/20
  split with its Q-matrix, 1.2 skills per item) test AUC 0.709 for mean vs 0.692 for product
  (also better on the multi-skill rows alone; ``bench/results/bkt_speed.md``). The product
  double-counts: each skill's P(correct) already includes guessing and the skill's own
  difficulty, so multiplying them underpredicts items that merely touch several skills.

Skills that have no answers in the fitted log get the median of the fitted skills' parameters.

Online state. :class:`BKTState` holds P(known) only for skills the learner has been seen on;
the others are at their prior. ``update`` mutates the state and returns it, in O(skills of the
event); replaying a learner's events gives exactly the floats of ``predict_proba``.
"""

from __future__ import annotations

import heapq
import json
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal, Self

import numba
import numpy as np
from numpy.typing import ArrayLike, NDArray

from zoped.engine import _bkt_kernels as kernels
from zoped.engine.base import FloatArray, IntArray, Interaction, InteractionLog
from zoped.errors import InvalidInput, NotFitted, Problem

Combine = Literal["product", "mean"]

_FORMAT = "zoped.bkt"
_FORMAT_VERSION = 1
_PARAM_NAMES = ("prior", "learn", "guess", "slip", "forget")


@dataclass(frozen=True)
class BKTParams:
    """Per-skill BKT parameters, one float64 array of shape (n_skills,) each.

    Attributes:
        prior: P(known) before the first answer.
        learn: P(not known -> known) after each answer.
        guess: P(correct | not known), in (0, 1).
        slip: P(wrong | known), in (0, 1).
        forget: P(known -> not known) after each answer; zeros without forgetting.

    Raises:
        InvalidInput: listing every bad value (shape, NaN, range, ``guess + slip >= 1``,
            ``learn + forget > 1``).
    """

    prior: FloatArray
    learn: FloatArray
    guess: FloatArray
    slip: FloatArray
    forget: FloatArray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        # Coerce once here so every later use can trust dtype and shape.
        n = np.asarray(self.prior).shape[0] if np.asarray(self.prior).ndim == 1 else -1
        if np.asarray(self.forget).size == 0 and n > 0:
            object.__setattr__(self, "forget", np.zeros(n))
        for name in _PARAM_NAMES:
            object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=np.float64))
        self._validate()

    def _validate(self) -> None:
        problems: list[Problem] = []
        n = self.prior.shape[0] if self.prior.ndim == 1 else -1
        for name in _PARAM_NAMES:
            a = getattr(self, name)
            if a.ndim != 1 or a.shape[0] != n:
                problems.append(Problem(name, f"must be 1-D of the prior's length, is {a.shape}"))
        if problems:
            raise InvalidInput("invalid BKT parameters", problems)
        open_unit = {"guess", "slip"}
        for name in _PARAM_NAMES:
            a = getattr(self, name)
            if name in open_unit:
                bad = ~((a > 0.0) & (a < 1.0))
                why = "must be in (0, 1)"
            else:
                bad = ~((a >= 0.0) & (a <= 1.0))
                why = "must be in [0, 1]"
            problems.extend(
                Problem(f"{name}[{i}]", f"{why}, is {a[i]!r}") for i in np.flatnonzero(bad)
            )
        for i in np.flatnonzero(self.guess + self.slip >= 1.0):
            problems.append(
                Problem(
                    f"guess[{i}]+slip[{i}]", "must be < 1, else a correct answer means not knowing"
                )
            )
        for i in np.flatnonzero(self.learn + self.forget > 1.0):
            problems.append(Problem(f"learn[{i}]+forget[{i}]", "must be <= 1"))
        if problems:
            raise InvalidInput("invalid BKT parameters", problems)

    @classmethod
    def from_values(
        cls,
        prior: ArrayLike,
        learn: ArrayLike,
        guess: ArrayLike,
        slip: ArrayLike,
        forget: ArrayLike | None = None,
    ) -> BKTParams:
        """Parameters from any array-like values (lists, tuples, arrays), validated."""

        def arr(v: ArrayLike) -> FloatArray:
            return np.asarray(v, dtype=np.float64)

        no_forget = np.zeros(0) if forget is None else arr(forget)
        return cls(arr(prior), arr(learn), arr(guess), arr(slip), no_forget)

    @property
    def n_skills(self) -> int:
        return int(self.prior.shape[0])

    def as_matrix(self) -> FloatArray:
        """The parameters as one (n_skills, 5) array, columns in ``_PARAM_NAMES`` order."""
        return np.ascontiguousarray(np.stack([getattr(self, n) for n in _PARAM_NAMES], axis=1))

    @classmethod
    def from_matrix(cls, theta: FloatArray) -> BKTParams:
        """Inverse of :meth:`as_matrix`."""
        return cls(*(np.array(theta[:, i]) for i in range(len(_PARAM_NAMES))))

    def to_dict(self) -> dict[str, list[float]]:
        return {name: getattr(self, name).tolist() for name in _PARAM_NAMES}


@dataclass
class BKTState:
    """One learner's knowledge: P(known) per skill code seen so far (others are at the prior).

    ``p_unknown`` keeps P(not known) beside it, because ``1 - p_known`` rounds to 0 once a
    learner is all but certain to know a skill, and the model could then never come back down
    after wrong answers. An entry of ``p_unknown`` that no longer matches ``p_known`` (the
    caller set ``p_known`` itself) is ignored, and ``1 - p_known`` is used instead.
    """

    p_known: dict[int, float] = field(default_factory=dict)
    p_unknown: dict[int, float] = field(default_factory=dict)

    def pair(self, k: int, prior: float) -> tuple[float, float]:
        """(P(known), P(not known)) of skill ``k``; the prior if the skill was not seen."""
        p = self.p_known.get(k)
        if p is None:
            return prior, 1.0 - prior
        q = self.p_unknown.get(k)
        if q is not None and (q == 1.0 - p or p == 1.0 - q):
            return p, q
        return p, 1.0 - p


@dataclass(frozen=True)
class BKTFitReport:
    """What the fit did, per skill: best log-likelihood, E-steps of the best restart, answers."""

    loglik: FloatArray
    n_iter: IntArray
    n_obs: IntArray


class BKT:
    """Bayesian Knowledge Tracing per skill, fitted by batched EM with random restarts.

    Args:
        n_restarts: random starts per skill; the best likelihood wins (pyBKT's ``num_fits``).
        forgetting: also fit ``forget``; otherwise it is 0.
        max_iter: EM iterations at most per restart.
        tol: stop when the mean log-likelihood per answer changes by less than this.
        seed: seeds the start values (``np.random.default_rng(seed)``).
        max_guess: cap on ``guess`` during the fit (1 = none).
        max_slip: cap on ``slip`` during the fit (1 = none).
        min_gap: the fit keeps ``1 - slip - guess >= min_gap`` (knowing must make a
            correct answer this much likelier), in (0, 1).
        combine: P(correct) of a multi-skill row, ``"mean"`` or ``"product"`` of its skills'.

    Example:
        >>> import numpy as np
        >>> params = BKTParams.from_values(prior=[0.2], learn=[0.1], guess=[0.2], slip=[0.1])
        >>> model = BKT.from_params(params, np.array(["fractions"]))
        >>> state = model.new_state()
        >>> round(model.predict_one(state, Interaction(skills=(0,), correct=True)), 3)
        0.34
        >>> state = model.update(state, Interaction(skills=(0,), correct=True))
        >>> round(model.p_known(state)["fractions"], 4)
        0.5765
    """

    name = "bkt"

    def __init__(
        self,
        n_restarts: int = 5,
        forgetting: bool = False,
        max_iter: int = 100,
        tol: float = 1e-4,
        seed: int | None = 0,
        max_guess: float = 1.0,
        max_slip: float = 1.0,
        min_gap: float = 0.05,
        combine: Combine = "mean",
    ) -> None:
        problems: list[Problem] = []
        if n_restarts < 1:
            problems.append(Problem("n_restarts", f"must be >= 1, is {n_restarts}"))
        if max_iter < 1:
            problems.append(Problem("max_iter", f"must be >= 1, is {max_iter}"))
        if not tol >= 0.0:
            problems.append(Problem("tol", f"must be >= 0, is {tol}"))
        for name, cap in (("max_guess", max_guess), ("max_slip", max_slip)):
            if not 0.0 < cap <= 1.0:
                problems.append(Problem(name, f"must be in (0, 1], is {cap}"))
        if not 0.0 < min_gap < 1.0:
            problems.append(Problem("min_gap", f"must be in (0, 1), is {min_gap}"))
        if combine not in ("product", "mean"):
            problems.append(Problem("combine", f"must be 'product' or 'mean', is {combine!r}"))
        if problems:
            raise InvalidInput("invalid BKT settings", problems)
        self.n_restarts = n_restarts
        self.forgetting = forgetting
        self.max_iter = max_iter
        self.tol = tol
        self.seed = seed
        self.max_guess = max_guess
        self.max_slip = max_slip
        self.min_gap = min_gap
        self.combine: Combine = combine
        self._params: BKTParams | None = None
        self._rows_cache: list[list[float]] | None = None
        self._skill_ids: NDArray[Any] = np.array([], dtype=object)
        self.fit_report: BKTFitReport | None = None

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_params(cls, params: BKTParams, skill_ids: NDArray[Any], **settings: Any) -> BKT:
        """A model with the given parameters, no fitting (``settings`` as for ``BKT(...)``).

        Raises:
            InvalidInput: if ``skill_ids`` does not have one id per skill.
        """
        skill_ids = np.asarray(skill_ids)
        if skill_ids.shape != (params.n_skills,):
            raise InvalidInput(
                "skill ids do not match the parameters",
                [Problem("skill_ids", f"has shape {skill_ids.shape}, need ({params.n_skills},)")],
            )
        model = cls(**settings)
        model._set_params(params, skill_ids)
        return model

    def _set_params(self, params: BKTParams, skill_ids: NDArray[Any]) -> None:
        self._params = params
        self._rows_cache = None
        self._skill_ids = np.asarray(skill_ids)

    @property
    def params(self) -> BKTParams:
        """The fitted (or given) parameters. Raises NotFitted before ``fit``/``load``."""
        if self._params is None:
            raise NotFitted("BKT has no parameters: call fit, from_params or load first")
        return self._params

    @property
    def skill_ids(self) -> NDArray[Any]:
        """The skill names, indexed by the skill codes of events and parameters."""
        self.params  # noqa: B018 - raises NotFitted
        return self._skill_ids

    # ------------------------------------------------------------------ fitting

    def fit(self, log: InteractionLog) -> Self:
        """Fit per-skill parameters by EM on every (learner, skill) sequence of ``log``.

        Raises:
            InvalidInput: if the log is inconsistent or empty.
        """
        log.validate()
        if len(log) == 0 or log.skill_idx.shape[0] == 0:
            raise InvalidInput("cannot fit BKT", [Problem("log", "has no answers with a skill")])
        n_skills = log.n_skills
        correct, seq_ptr, skill_seq_ptr = _sequences_by_skill(log)
        n_obs = seq_ptr[skill_seq_ptr[1:]] - seq_ptr[skill_seq_ptr[:-1]]
        seq_len = np.diff(seq_ptr)
        max_len = int(seq_len.max()) if seq_len.size else 1

        rng = np.random.default_rng(self.seed)
        theta = self._start_values(rng, n_skills)
        has_data = np.flatnonzero(n_obs > 0)
        jobs, worker_ptr = _em_jobs(
            n_obs[has_data], has_data, self.n_restarts, numba.get_num_threads()
        )
        loglik, n_iter = kernels.em_fit_grouped(
            correct,
            seq_ptr,
            skill_seq_ptr,
            jobs,
            worker_ptr,
            theta,
            self.max_iter,
            self.tol,
            self.forgetting,
            self.max_guess,
            self.max_slip,
            1.0 - self.min_gap,
            max_len,
        )
        best = np.argmax(loglik, axis=0)
        cols = np.arange(n_skills)
        fitted = theta[best, cols]
        if has_data.shape[0] < n_skills:
            fallback = np.median(fitted[has_data], axis=0) if has_data.size else fitted[0]
            fitted[n_obs == 0] = fallback
        if not self.forgetting:
            fitted[:, kernels.FORGET] = 0.0
        self._set_params(BKTParams.from_matrix(fitted), log.skill_ids)
        self.fit_report = BKTFitReport(
            loglik=loglik[best, cols], n_iter=n_iter[best, cols], n_obs=n_obs
        )
        return self

    def _start_values(self, rng: np.random.Generator, n_skills: int) -> FloatArray:
        """Random start values per (restart, skill), in pyBKT's ranges within our caps."""
        shape = (self.n_restarts, n_skills)
        theta = np.empty((*shape, len(_PARAM_NAMES)))
        theta[..., kernels.PRIOR] = rng.uniform(0.05, 0.95, shape)
        theta[..., kernels.LEARN] = rng.uniform(0.01, 0.4, shape)
        theta[..., kernels.GUESS] = rng.uniform(0.01, min(self.max_guess, 0.4), shape)
        theta[..., kernels.SLIP] = rng.uniform(0.01, min(self.max_slip, 0.3), shape)
        theta[..., kernels.FORGET] = rng.uniform(0.0, 0.1, shape) if self.forgetting else 0.0
        return theta

    # ------------------------------------------------------------------ batch prediction

    def predict_proba(self, log: InteractionLog) -> FloatArray:
        """P(correct) of each row from the same learner's earlier rows only (forward filter).

        Rows without a skill get NaN. Raises InvalidInput if the log names unknown skills.
        """
        probs, _ = self._filter(log, want_final=False)
        return probs

    def knowledge_states(self, log: InteractionLog) -> FloatArray:
        """P(known) of every learner x skill after the learner's last row, (n_learners, n_skills).

        Columns follow :attr:`skill_ids` (the model's vocabulary); skills a learner never
        answered stay at their prior.
        """
        _, final = self._filter(log, want_final=True)
        return final

    def _filter(self, log: InteractionLog, want_final: bool) -> tuple[FloatArray, FloatArray]:
        log.validate()
        theta = self.params.as_matrix()
        skill_idx = self._model_codes(log)
        final = (
            np.tile(kernels.online_prior(theta[:, kernels.PRIOR]), (log.n_learners, 1))
            if want_final
            else np.zeros((0, theta.shape[0]))
        )
        probs = kernels.forward_filter(
            np.ascontiguousarray(log.learner, dtype=np.int64),
            np.ascontiguousarray(log.skill_ptr, dtype=np.int64),
            skill_idx,
            np.ascontiguousarray(log.correct, dtype=np.int8),
            theta,
            self.combine == "product",
            final,
        )
        return probs, final

    def _model_codes(self, log: InteractionLog) -> IntArray:
        """The log's skill codes translated to this model's (same vocabulary: no copy)."""
        own = self.skill_ids
        codes = np.ascontiguousarray(log.skill_idx, dtype=np.int64)
        if log.skill_ids.shape == own.shape and np.array_equal(log.skill_ids, own):
            return codes
        index = {str(s): i for i, s in enumerate(own.tolist())}
        mapping = np.array([index.get(str(s), -1) for s in log.skill_ids.tolist()], dtype=np.int64)
        used = np.unique(codes)
        unknown = used[mapping[used] < 0]
        if unknown.size:
            names = [str(log.skill_ids[k]) for k in unknown[:20]]
            raise InvalidInput(
                "the log has skills this model was not fitted on",
                [Problem("skill_ids", f"unknown skill {n!r}") for n in names],
            )
        return mapping[codes]

    # ------------------------------------------------------------------ online

    def new_state(self) -> BKTState:
        """An empty state: every skill at its prior until the learner is seen on it."""
        self.params  # noqa: B018 - raises NotFitted
        return BKTState()

    def predict_one(self, state: BKTState, event: Interaction) -> float:
        """P(correct) of ``event`` given ``state`` (the state is not changed).

        Raises:
            InvalidInput: for a skill code outside the model's vocabulary or no skill at all.
        """
        theta = self._check_event(event)
        acc = 1.0 if self.combine == "product" else 0.0
        for k in event.skills:
            p, q = state.pair(k, theta[k][kernels.PRIOR])
            pc = kernels.p_correct(p, q, theta[k][kernels.GUESS], theta[k][kernels.SLIP])
            acc = acc * pc if self.combine == "product" else acc + pc
        return acc if self.combine == "product" else acc / len(event.skills)

    def update(self, state: BKTState, event: Interaction) -> BKTState:
        """Take one answer into ``state``: each of the event's skills is updated with it.

        Mutates ``state`` and returns it; O(skills of the event).
        """
        theta = self._check_event(event)
        c = int(bool(event.correct))
        for k in event.skills:
            prior, learn, guess, slip, forget = theta[k]
            p, q = state.pair(k, prior)
            # The one online step (the batched filter and the simulator run it too).
            state.p_known[k], state.p_unknown[k] = kernels.step(p, q, c, learn, guess, slip, forget)
        return state

    def online_prior(self) -> FloatArray:
        """P(known) per skill code before any answer, as the online step starts from it."""
        return kernels.online_prior(self.params.prior)

    def p_known(self, state: BKTState) -> dict[str, float]:
        """The learner's current P(known) for every skill, keyed by skill name."""
        theta = self._rows()
        return {
            str(name): state.p_known.get(k, theta[k][kernels.PRIOR])
            for k, name in enumerate(self.skill_ids.tolist())
        }

    def _rows(self) -> list[list[float]]:
        # Python floats per skill: indexing a list of lists is several times faster than numpy
        # scalar access, and online updates are called one event at a time.
        if self._rows_cache is None:
            theta = self.params.as_matrix()
            theta[:, kernels.PRIOR] = kernels.online_prior(theta[:, kernels.PRIOR])
            rows: list[list[float]] = theta.tolist()
            self._rows_cache = rows
        return self._rows_cache

    def _check_event(self, event: Interaction) -> list[list[float]]:
        theta = self._rows()
        n = len(theta)
        if not event.skills or any(not 0 <= k < n for k in event.skills):
            raise InvalidInput(
                "event does not fit this model",
                [Problem("skills", f"need 1+ skill codes in [0, {n}), got {event.skills!r}")],
            )
        return theta

    # ------------------------------------------------------------------ persistence

    def save(self, path: Path) -> None:
        """Write settings, skill ids and parameters as JSON (no pickle)."""
        doc = {
            "format": _FORMAT,
            "version": _FORMAT_VERSION,
            "settings": self._settings(),
            "skill_ids": self.skill_ids.tolist(),
            "params": self.params.to_dict(),
        }
        Path(path).write_text(json.dumps(doc), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Self:
        """Read a model written by :meth:`save`.

        Raises:
            InvalidInput: if the file is not a zoped BKT model or its parameters are invalid.
        """
        try:
            doc = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InvalidInput(
                f"cannot read a BKT model from {path}", [Problem("file", str(exc))]
            ) from exc
        if not isinstance(doc, dict) or doc.get("format") != _FORMAT:
            raise InvalidInput(f"{path} is not a zoped BKT model", [Problem("format", "missing")])
        if doc.get("version") != _FORMAT_VERSION:
            raise InvalidInput(
                f"{path}: unsupported BKT model version",
                [Problem("version", f"{doc.get('version')!r}, expected {_FORMAT_VERSION}")],
            )
        params = BKTParams(
            **{n: np.asarray(doc["params"][n], dtype=np.float64) for n in _PARAM_NAMES}
        )
        model = cls(**doc["settings"])
        model._set_params(params, np.asarray(doc["skill_ids"]))
        return model

    def _settings(self) -> dict[str, Any]:
        return {
            "n_restarts": self.n_restarts,
            "forgetting": self.forgetting,
            "max_iter": self.max_iter,
            "tol": self.tol,
            "seed": self.seed,
            "max_guess": self.max_guess,
            "max_slip": self.max_slip,
            "min_gap": self.min_gap,
            "combine": self.combine,
        }

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._settings().items())
        return f"BKT({args})"


def _em_jobs(
    n_obs: IntArray, skills: IntArray, n_restarts: int, n_threads: int
) -> tuple[IntArray, IntArray]:
    """EM jobs as rows (skill, first restart, end restart), and which thread runs which.

    One job runs all restarts of a skill in one pass over its answers (see
    :func:`zoped.engine._bkt_kernels._em_group`). Where the skills are too few to keep
    ``n_threads`` busy (a log of 3 skills on 2 threads), each skill's restarts are cut into
    that many more jobs. The jobs are dealt to the threads largest first, each to the thread
    with the least work so far (answers x restarts); thread ``w`` runs the rows
    ``worker_ptr[w]:worker_ptr[w + 1]``. numba hands each thread one equal slice of a
    parallel loop, so without this the largest skills would all land on the first thread.
    Neither the cut nor the dealing changes a restart's numbers, only where it runs.
    """
    splits = int(min(n_restarts, max(1, -(-2 * n_threads // max(1, skills.shape[0])))))
    bounds = np.linspace(0, n_restarts, splits + 1).round().astype(np.int64)
    order = np.argsort(-n_obs, kind="stable")
    rows = [
        (int(skills[i]), int(a), int(b), int(n_obs[i]) * int(b - a))
        for i in order
        for a, b in pairwise(bounds)
        if b > a
    ]
    rows.sort(key=lambda row: -row[3])
    loads = [(0, w) for w in range(max(1, n_threads))]
    assigned: list[list[tuple[int, int, int]]] = [[] for _ in loads]
    for skill, a, b, cost in rows:
        load, w = heapq.heappop(loads)
        assigned[w].append((skill, a, b))
        heapq.heappush(loads, (load + cost, w))
    jobs = np.array([job for mine in assigned for job in mine], dtype=np.int64).reshape(-1, 3)
    worker_ptr = np.zeros(len(assigned) + 1, dtype=np.int64)
    np.cumsum([len(mine) for mine in assigned], out=worker_ptr[1:])
    return jobs, worker_ptr


def _sequences_by_skill(log: InteractionLog) -> tuple[NDArray[np.int8], IntArray, IntArray]:
    """Answers regrouped as (skill, learner) sequences in time order.

    A row with several skills contributes one observation to each skill. Returns the answers
    in sequence order, the start of each sequence (plus the end), and the first sequence of
    each skill (plus the end).
    """
    counts = log.n_skills_per_row
    obs_row = np.repeat(np.arange(len(log), dtype=np.int64), counts)
    obs_skill = np.asarray(log.skill_idx, dtype=np.int64)
    # Rows are already sorted by (learner, order), so a stable sort by skill keeps each
    # learner's answers to a skill together and in time order.
    perm = np.argsort(obs_skill, kind="stable")
    skill_sorted = obs_skill[perm]
    learner_sorted = log.learner[obs_row[perm]]
    correct = np.ascontiguousarray(log.correct[obs_row[perm]], dtype=np.int8)
    n = perm.shape[0]
    new_seq = np.ones(n, dtype=bool)
    new_seq[1:] = (skill_sorted[1:] != skill_sorted[:-1]) | (
        learner_sorted[1:] != learner_sorted[:-1]
    )
    starts = np.flatnonzero(new_seq)
    seq_ptr = np.append(starts, n).astype(np.int64)
    skill_seq_ptr = np.searchsorted(skill_sorted[starts], np.arange(log.n_skills + 1)).astype(
        np.int64
    )
    return correct, seq_ptr, skill_seq_ptr


__all__ = ["BKT", "BKTFitReport", "BKTParams", "BKTState"]
