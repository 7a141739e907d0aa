"""Context-aware attentive knowledge tracing (Ghosh, Heffernan & Lan 2020), AKT-Rasch.

Embeddings (Rasch style): a row asking item ``q`` on concepts ``c`` is ``x = c_c + mu_q d_c``
and its answer ``r`` is ``y = e_(c,r) + mu_q f_(c,r)``, with ``c_c``, ``e_(c,r)`` the concept
(and concept-response) embeddings, ``d_c``, ``f_(c,r)`` their variation vectors and ``mu_q`` one
difficulty scalar per item (0 for an item never trained on, or a log without items). A
multi-skill row takes the mean of its concepts' embeddings.

Training (as AKT's code): every row weighs the same, the loss of a step being its rows'
cross-entropy plus ``l2 * mu^2`` per row, summed (``row_weighted``). Steps group windows of
similar length, so a mean per step would weigh a short learner's rows many times more than a
long learner's: on a validation split of ASSISTments 2009 (question level) that cost 0.025 AUC.

Network: a question encoder (self-attention over ``x``, current row included), a knowledge
encoder (self-attention and a feed-forward layer over ``y``, current row included) and a
knowledge retriever (query and key the encoded questions, values the encoded answers, earlier
rows only; a first row retrieves nothing). Every attention is *monotonic*: a score
``q.k / sqrt(d)`` is multiplied by ``exp(-theta_h * dist)``, with a learned rate
``theta_h = softplus(gamma_h)`` per head and the context-aware distance
``dist(t, j) = sqrt(|t - j| * (attention weight t gives to rows after j))``. The prediction is
an MLP over [retrieved knowledge, x].

Windows: training cuts each learner into windows of ``window`` rows (as AKT does). Prediction
gives every row at least half a window of history: rows are predicted in blocks of
``window // 2``, each block attending to the rest of a window before it. The block a row falls
in depends only on its position in the learner's sequence, so the online update (which keeps
the last ``window`` events) computes exactly what batch prediction computes.

Needs the ``[deep]`` extra (PyTorch); this module imports without it.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Self

import numpy as np

from zoped.engine.base import IntArray, Interaction, InteractionLog
from zoped.engine.deep._common import SequenceModel, bag_inputs
from zoped.errors import InvalidInput, Problem


@dataclass
class AKTState:
    """The last ``window`` events of a learner (skills, item, correct) and the event count."""

    recent: deque[tuple[tuple[int, ...], int, bool]] = field(default_factory=deque)
    n_events: int = 0


def _network(torch: Any, n_skills: int, n_items: int, d: int, heads: int, dropout: float) -> Any:
    """The AKT network (classes built here so that the module imports without torch)."""
    nn = torch.nn
    functional = torch.nn.functional

    class MonotonicAttention(nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.qk = nn.Linear(d, d)  # queries and keys share their projection, as in AKT
            self.v = nn.Linear(d, d)
            self.o = nn.Linear(d, d)
            self.gamma = nn.Parameter(torch.empty(heads, 1, 1))
            nn.init.xavier_uniform_(self.gamma)
            self.drop = nn.Dropout(dropout)

        def forward(self, q: Any, k: Any, v: Any, visible: Any) -> Any:
            b, n, _ = q.shape

            def split(t: Any) -> Any:
                return t.view(b, n, heads, d // heads).transpose(1, 2)

            qh, kh, vh = split(self.qk(q)), split(self.qk(k)), split(self.v(v))
            scores = qh @ kh.transpose(-2, -1) / math.sqrt(d // heads)
            with torch.no_grad():
                # Hidden scores softmax to exactly 0; a row that sees nothing gets no weight
                # whatever its distances (below), so no mask multiplication is needed here.
                weights = scores.masked_fill(~visible, -1e32).softmax(-1)
                after = weights.sum(-1, keepdim=True) - weights.cumsum(-1)
                pos = torch.arange(n, device=q.device)
                gap = (pos[:, None] - pos[None, :]).abs()
                dist = (after * gap).clamp(min=0).sqrt()
            theta = functional.softplus(self.gamma)
            scores = scores * (-theta * dist).exp().clamp(1e-5, 1e5)
            weights = scores.masked_fill(~visible, -1e32).softmax(-1)
            seen = visible.any(-1, keepdim=True)
            if not bool(seen.all()):  # a row with nothing to see retrieves zero
                weights = weights * seen
            out = self.drop(weights) @ vh
            return self.o(out.transpose(1, 2).reshape(b, n, d))

    class Block(nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self, feed_forward: bool) -> None:
            super().__init__()
            self.attn = MonotonicAttention()
            self.drop = nn.Dropout(dropout)
            self.norm = nn.LayerNorm(d)
            self.ffn = (
                nn.Sequential(
                    nn.Linear(d, 4 * d), nn.ReLU(), nn.Dropout(dropout), nn.Linear(4 * d, d)
                )
                if feed_forward
                else None
            )
            self.norm2 = nn.LayerNorm(d)

        def forward(self, q: Any, k: Any, v: Any, visible: Any) -> Any:
            x = self.norm(q + self.drop(self.attn(q, k, v, visible)))
            if self.ffn is not None:
                x = self.norm2(x + self.drop(self.ffn(x)))
            return x

    class Net(nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.concept = nn.EmbeddingBag(n_skills, d, mode="mean")
            self.concept_var = nn.EmbeddingBag(n_skills, d, mode="mean")
            self.answer = nn.EmbeddingBag(2 * n_skills, d, mode="mean")
            self.answer_var = nn.EmbeddingBag(2 * n_skills, d, mode="mean")
            self.difficulty = nn.Embedding(n_items + 1, 1, padding_idx=n_items)
            nn.init.zeros_(self.difficulty.weight)
            self.question_encoder = Block(feed_forward=False)
            self.knowledge_encoder = Block(feed_forward=True)
            self.retriever = Block(feed_forward=True)
            self.out = nn.Sequential(
                nn.Linear(2 * d, 2 * d),
                nn.ReLU(),
                nn.Dropout(dropout),
                nn.Linear(2 * d, d),
                nn.ReLU(),
                nn.Dropout(dropout),
                nn.Linear(d, 1),
            )

        def forward(self, q_bag: Any, a_bag: Any, items: Any) -> tuple[Any, Any]:
            b, n = items.shape
            mu = self.difficulty(items)
            x = (self.concept(*q_bag) + mu.view(-1, 1) * self.concept_var(*q_bag)).view(b, n, d)
            y = (self.answer(*a_bag) + mu.view(-1, 1) * self.answer_var(*a_bag)).view(b, n, d)
            upto = torch.ones(n, n, dtype=torch.bool, device=items.device).tril()
            earlier = upto.tril(-1)
            xh = self.question_encoder(x, x, x, upto)
            yh = self.knowledge_encoder(y, y, y, upto)
            h = self.retriever(xh, xh, yh, earlier)
            return self.out(torch.cat([h, x], dim=-1)).squeeze(-1), mu.squeeze(-1)

    return Net()


class AKT(SequenceModel):
    """Attentive knowledge tracing with Rasch item embeddings (name ``"akt"``).

    Options as in :class:`SequenceModel` (``hidden`` is AKT's d_model), plus:

    Args:
        heads: attention heads (``hidden`` must be a multiple).
        l2: weight of the penalty on the item difficulty scalars.
    """

    name = "akt"
    row_weighted = True

    def __init__(
        self,
        *,
        hidden: int = 64,
        window: int = 200,
        epochs: int = 10,
        batch_size: int = 24,
        lr: float = 1e-3,
        dropout: float = 0.05,
        heads: int = 4,
        l2: float = 1e-5,
        seed: int = 0,
        device: str = "auto",
    ) -> None:
        super().__init__(
            hidden=hidden,
            window=window,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            dropout=dropout,
            seed=seed,
            device=device,
        )
        problems = []
        if heads < 1 or hidden % heads:
            problems.append(Problem("heads", f"must be a positive divisor of hidden ({hidden})"))
        if window < 2:
            problems.append(Problem("window", "must be at least 2"))
        if not l2 >= 0:
            problems.append(Problem("l2", "must be zero or positive"))
        if problems:
            raise InvalidInput("invalid akt options", problems)
        self.heads = heads
        self.l2 = l2
        self.n_items = 0
        self._mu: Any = None

    # ------------------------------------------------------------ network

    def _prepare(self, log: InteractionLog) -> None:
        self.n_items = max(log.n_items, int(log.item.max(initial=-1)) + 1)

    def _build(self, torch: Any, n_skills: int) -> Any:
        return _network(torch, n_skills, self.n_items, self.hidden, self.heads, self.dropout)

    def config(self) -> dict[str, Any]:
        return {**super().config(), "heads": self.heads, "l2": self.l2, "n_items": self.n_items}

    @classmethod
    def _from_config(cls, config: dict[str, Any], device: str) -> Self:
        options = {k: config[k] for k in ("hidden", "window", "epochs", "batch_size", "lr")}
        model = cls(
            **options,
            dropout=config["dropout"],
            heads=config["heads"],
            l2=config["l2"],
            seed=config["seed"],
            device=device,
        )
        model.n_items = int(config["n_items"])
        return model

    def _penalty(self) -> Any:
        return self.l2 * (self._mu**2).sum() if self.l2 else 0.0

    def _logits(
        self,
        skill_ptr: IntArray,
        skill_idx: IntArray,
        items: IntArray,
        correct: Any,
        rows: IntArray,
    ) -> tuple[Any, Any]:
        """Logits and item difficulties of a (batch, length) block of row indices (-1 = padding).

        Padding sits at the end of a block only, so no real row ever sees it.
        """
        torch = self._torch
        dev = self.device
        q_idx, q_off = bag_inputs(skill_ptr, skill_idx, rows)
        a_idx, a_off = bag_inputs(skill_ptr, skill_idx, rows, correct)
        item = np.where(rows >= 0, items[np.maximum(rows, 0)], -1)
        item = np.where((item >= 0) & (item < self.n_items), item, self.n_items)
        logits, mu = self.net(
            (torch.as_tensor(q_idx, device=dev), torch.as_tensor(q_off, device=dev)),
            (torch.as_tensor(a_idx, device=dev), torch.as_tensor(a_off, device=dev)),
            torch.as_tensor(item, device=dev),
        )
        return logits, mu

    def _segments(self, log: InteractionLog, training: bool) -> list[tuple[int, int, int]]:
        """(context start, first predicted row, end) per block, over every learner."""
        w = self.window
        block = w if training else w // 2
        out = []
        for a, e in itertools.pairwise(log.learner_bounds()):
            for s in range(int(a), int(e), block):
                context = s if training else max(int(a), s - (w - block))
                out.append((context, s, min(s + block, int(e))))
        return out

    def _passes(
        self, log: InteractionLog, rng: np.random.Generator | None
    ) -> Iterator[tuple[IntArray, Any]]:
        segs = self._segments(log, training=rng is not None)
        # Batches of segments of similar length, padded to their longest only (most learners
        # are shorter than a window); in training, random within a length and in random order.
        lengths = np.array([e - c for c, _, e in segs], dtype=np.int64)
        order = np.arange(len(segs)) if rng is None else rng.permutation(len(segs))
        order = order[np.argsort(lengths[order], kind="stable")]
        batches = [order[g : g + self.batch_size] for g in range(0, len(order), self.batch_size)]
        if rng is not None:
            batches = [batches[i] for i in rng.permutation(len(batches))]
        for batch in batches:
            chosen = [segs[i] for i in batch]
            width = int(lengths[batch].max())
            rows = np.full((len(chosen), width), -1, dtype=np.int64)
            wanted = np.zeros((len(chosen), width), dtype=bool)
            for i, (c, s, e) in enumerate(chosen):
                rows[i, : e - c] = np.arange(c, e)
                wanted[i, s - c : e - c] = True
            logits, mu = self._logits(log.skill_ptr, log.skill_idx, log.item, log.correct, rows)
            keep = self._torch.as_tensor(wanted, device=self.device)
            self._mu = mu[keep]
            yield rows[wanted], logits[keep]

    # ---------------------------------------------------------------- online

    def new_state(self) -> AKTState:
        """The state of a learner with no history."""
        return AKTState(recent=deque(maxlen=self.window))

    def predict_one(self, state: AKTState, event: Interaction) -> float:
        """P(correct) of ``event`` from the events of its prediction window."""
        torch = self._ready()
        block = self.window // 2
        position = state.n_events
        start = max(0, (position // block) * block - (self.window - block))
        history = list(state.recent)[len(state.recent) - (position - start) :]
        rows = [*history, (tuple(event.skills), event.item, False)]
        ptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum([len(s) for s, _, _ in rows], out=ptr[1:])
        idx = np.array([k for s, _, _ in rows for k in s], dtype=np.int64)
        items = np.array([i for _, i, _ in rows], dtype=np.int64)
        correct = np.array([int(c) for _, _, c in rows], dtype=np.int8)
        with torch.no_grad():
            logits, _ = self._logits(ptr, idx, items, correct, np.arange(len(rows))[None, :])
        return float(torch.sigmoid(logits[0, -1]).item())

    def update(self, state: AKTState, event: Interaction) -> AKTState:
        """Remember the event (in place; the oldest drops out after ``window``)."""
        self._ready()
        if state.recent.maxlen != self.window:
            state.recent = deque(state.recent, maxlen=self.window)
        state.recent.append((tuple(event.skills), int(event.item), bool(event.correct)))
        state.n_events += 1
        return state
