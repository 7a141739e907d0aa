"""Self-attentive knowledge tracing (Pandey & Karypis 2019), with relative positions.

Row ``r`` asks with its skills (query) and attends to the learner's previous ``window`` rows
(keys and values: their (skill, outcome) bags) plus one learned "nothing yet" slot, so a first
row still has something to attend to. Positions enter as a learned bias per head and per
distance ``r - j`` (1..window) instead of SAKT's absolute position embeddings: with a sliding
window the same past row keeps the same bias, so batch prediction over long sequences and the
online update (which keeps the last ``window`` rows) compute exactly the same thing.

Needs the ``[deep]`` extra (PyTorch); this module imports without it.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from zoped.engine.base import IntArray, Interaction, InteractionLog
from zoped.engine.deep._common import SequenceModel, bag_inputs

_HEADS = 4


@dataclass
class SAKTState:
    """The last ``window`` events of a learner (skills, correct, position) and the event count."""

    recent: deque[tuple[tuple[int, ...], bool, int]] = field(default_factory=deque)
    n_events: int = 0


class SAKT(SequenceModel):
    """Attention knowledge tracing (name ``"sakt"``); options as in :class:`SequenceModel`.

    ``hidden`` must be a multiple of the 4 attention heads.
    """

    name = "sakt"

    def _build(self, torch: Any, n_skills: int) -> Any:
        nn = torch.nn
        if self.hidden % _HEADS:
            from zoped.errors import InvalidInput, Problem

            raise InvalidInput(
                "invalid sakt options", [Problem("hidden", f"must be a multiple of {_HEADS}")]
            )
        d = self.hidden
        return nn.ModuleDict(
            {
                "query": nn.EmbeddingBag(n_skills, d, mode="mean"),
                "inter": nn.EmbeddingBag(2 * n_skills, d, mode="mean"),
                "null": nn.Embedding(1, d),
                "dist": nn.Embedding(self.window, _HEADS),
                "attn": nn.MultiheadAttention(d, _HEADS, dropout=self.dropout, batch_first=True),
                "norm1": nn.LayerNorm(d),
                "ffn": nn.Sequential(
                    nn.Linear(d, d), nn.ReLU(), nn.Dropout(self.dropout), nn.Linear(d, d)
                ),
                "norm2": nn.LayerNorm(d),
                "out": nn.Linear(d, 1),
            }
        )

    def _logits(
        self,
        q_idx: tuple[IntArray, IntArray],
        k_idx: tuple[IntArray, IntArray],
        q_pos: IntArray,
        k_pos: IntArray,
    ) -> Any:
        """Logits for queries at positions ``q_pos`` (B, Lq) over keys at ``k_pos`` (B, Lk).

        A key is visible when it is valid (pos >= 0), strictly earlier and at most ``window``
        rows back; the null slot is always visible.
        """
        torch = self._torch
        dev = self.device
        b, lq = q_pos.shape
        lk = k_pos.shape[1]
        d = self.hidden
        q = self.net["query"](
            torch.as_tensor(q_idx[0], device=dev), torch.as_tensor(q_idx[1], device=dev)
        ).view(b, lq, d)
        v = self.net["inter"](
            torch.as_tensor(k_idx[0], device=dev), torch.as_tensor(k_idx[1], device=dev)
        ).view(b, lk, d)
        null = self.net["null"].weight.view(1, 1, d).expand(b, 1, d)
        kv = torch.cat([null, v], dim=1)
        qp = torch.as_tensor(q_pos, device=dev)[:, :, None]
        kp = torch.as_tensor(k_pos, device=dev)[:, None, :]
        dist = qp - kp
        visible = (kp >= 0) & (dist >= 1) & (dist <= self.window)
        bias = self.net["dist"](dist.clamp(1, self.window) - 1)  # (B, Lq, Lk, heads)
        bias = bias.masked_fill(~visible[..., None], float("-inf"))
        bias = torch.cat([torch.zeros(b, lq, 1, _HEADS, device=dev), bias], dim=2)
        mask = bias.permute(0, 3, 1, 2).reshape(b * _HEADS, lq, lk + 1)
        att, _ = self.net["attn"](q, kv, kv, attn_mask=mask, need_weights=False)
        x = self.net["norm1"](att + q)
        x = self.net["norm2"](x + self.net["ffn"](x))
        return self.net["out"](x).squeeze(-1)

    def _passes(
        self, log: InteractionLog, rng: np.random.Generator | None
    ) -> Iterator[tuple[IntArray, Any]]:
        # Segments: queries are `window` consecutive rows of one learner, keys the rows from
        # `window` before the first query to the last query. Row indices double as positions,
        # since a learner's rows are contiguous.
        w = self.window
        bounds = log.learner_bounds()
        segs = [
            (int(s), int(min(s + w, e)), int(max(a, s - w)))
            for a, e in itertools.pairwise(bounds)
            for s in range(int(a), int(e), w)
        ]
        order = np.arange(len(segs)) if rng is None else rng.permutation(len(segs))
        for g in range(0, len(order), self.batch_size):
            chosen = [segs[i] for i in order[g : g + self.batch_size]]
            q_rows = np.full((len(chosen), w), -1, dtype=np.int64)
            k_rows = np.full((len(chosen), 2 * w), -1, dtype=np.int64)
            for i, (s, e, c) in enumerate(chosen):
                q_rows[i, : e - s] = np.arange(s, e)
                k_rows[i, : e - c] = np.arange(c, e)
            logits = self._logits(
                bag_inputs(log.skill_ptr, log.skill_idx, q_rows),
                bag_inputs(log.skill_ptr, log.skill_idx, k_rows, log.correct),
                q_rows,
                k_rows,
            )
            valid = q_rows >= 0
            yield q_rows[valid], logits[self._torch.as_tensor(valid, device=self.device)]

    # ---------------------------------------------------------------- online

    def new_state(self) -> SAKTState:
        """The state of a learner with no history."""
        return SAKTState(recent=deque(maxlen=self.window))

    def predict_one(self, state: SAKTState, event: Interaction) -> float:
        """P(correct) of ``event`` from the last ``window`` events."""
        torch = self._ready()
        recent = list(state.recent)
        ptr = np.zeros(len(recent) + 2, dtype=np.int64)
        np.cumsum([len(s) for s, _, _ in recent] + [len(event.skills)], out=ptr[1:])
        idx = np.array([k for s, _, _ in recent for k in s] + list(event.skills), dtype=np.int64)
        correct = np.array([int(c) for _, c, _ in recent] + [0], dtype=np.int8)
        q_rows = np.array([[len(recent)]])
        k_rows = np.arange(len(recent), dtype=np.int64)[None, :]
        # Positions: the stored ones for keys, the event count for the query.
        k_pos = np.array([[p for _, _, p in recent]], dtype=np.int64).reshape(1, len(recent))
        with torch.no_grad():
            logit = self._logits(
                bag_inputs(ptr, idx, q_rows),
                bag_inputs(ptr, idx, k_rows, correct),
                np.array([[state.n_events]]),
                k_pos,
            )
        return float(torch.sigmoid(logit).item())

    def update(self, state: SAKTState, event: Interaction) -> SAKTState:
        """Remember the event (in place; the oldest drops out after ``window``)."""
        self._ready()
        if state.recent.maxlen != self.window:
            state.recent = deque(state.recent, maxlen=self.window)
        state.recent.append((tuple(event.skills), bool(event.correct), state.n_events))
        state.n_events += 1
        return state
