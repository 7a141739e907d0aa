"""Deep knowledge tracing (Piech et al. 2015): an LSTM over a learner's (skill, outcome) rows.

Row ``r`` is predicted from the hidden state *before* it: ``logit = h[r-1] . w(skills) + b(skills)``
with ``w`` and ``b`` the means of the row's skills' output vectors (zero state for a first row).
Training is truncated back-propagation through time: each learner's sequence is cut into windows
of ``window`` rows and the LSTM state is carried (detached) from one window to the next, so the
model is trained on the same full-history states that prediction and online updates use.

Needs the ``[deep]`` extra (PyTorch); this module imports without it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from zoped.engine.base import IntArray, Interaction, InteractionLog
from zoped.engine.deep._common import SequenceModel, bag_inputs, event_bag


@dataclass
class DKTState:
    """One learner's LSTM state (``h``, ``c``: tensors of shape (1, 1, hidden)); None at start."""

    h: Any = None
    c: Any = None
    n_events: int = 0


class DKT(SequenceModel):
    """LSTM knowledge tracing (name ``"dkt"``); options as in :class:`SequenceModel`."""

    name = "dkt"

    def _build(self, torch: Any, n_skills: int) -> Any:
        nn = torch.nn
        return nn.ModuleDict(
            {
                "inp": nn.EmbeddingBag(2 * n_skills, self.hidden, mode="mean"),
                "lstm": nn.LSTM(self.hidden, self.hidden, batch_first=True),
                "out_w": nn.EmbeddingBag(n_skills, self.hidden, mode="mean"),
                "out_b": nn.EmbeddingBag(n_skills, 1, mode="mean"),
                "drop": nn.Dropout(self.dropout),
            }
        )

    def _bag(self, name: str, idx: IntArray, offsets: IntArray) -> Any:
        torch = self._torch
        return self.net[name](
            torch.as_tensor(idx, device=self.device), torch.as_tensor(offsets, device=self.device)
        )

    def _window_logits(
        self, log: InteractionLog, rows: IntArray, state: tuple[Any, Any] | None
    ) -> tuple[Any, tuple[Any, Any]]:
        """Logits of a (batch, length) block of rows (-1 = padding) and the state after it."""
        torch = self._torch
        b, length = rows.shape
        x = self._bag("inp", *bag_inputs(log.skill_ptr, log.skill_idx, rows, log.correct))
        out, new_state = self.net["lstm"](x.view(b, length, self.hidden), state)
        if state is None:
            first = torch.zeros(b, 1, self.hidden, device=self.device)
        else:
            first = state[0][-1].unsqueeze(1)
        before = self.net["drop"](torch.cat([first, out[:, :-1]], dim=1))
        w = self._bag("out_w", *bag_inputs(log.skill_ptr, log.skill_idx, rows))
        bias = self._bag("out_b", *bag_inputs(log.skill_ptr, log.skill_idx, rows))
        logits = (before * w.view(b, length, self.hidden)).sum(-1) + bias.view(b, length)
        return logits, new_state

    def _passes(
        self, log: InteractionLog, rng: np.random.Generator | None
    ) -> Iterator[tuple[IntArray, Any]]:
        bounds = log.learner_bounds()
        starts, ends = bounds[:-1], bounds[1:]
        learners = np.flatnonzero(ends > starts)
        if rng is not None:
            learners = rng.permutation(learners)
        for g in range(0, len(learners), self.batch_size):
            group = learners[g : g + self.batch_size]
            lengths = ends[group] - starts[group]
            state = None
            for w0 in range(0, int(lengths.max()), self.window):
                offs = w0 + np.arange(self.window)
                rows = np.where(offs < lengths[:, None], starts[group][:, None] + offs, -1)
                logits, state = self._window_logits(log, rows, state)
                state = (state[0].detach(), state[1].detach())
                valid = rows >= 0
                yield rows[valid], logits[self._torch.as_tensor(valid, device=self.device)]

    # ---------------------------------------------------------------- online

    def new_state(self) -> DKTState:
        """The state of a learner with no history."""
        return DKTState()

    def predict_one(self, state: DKTState, event: Interaction) -> float:
        """P(correct) of ``event`` from the LSTM state before it."""
        torch = self._ready()
        with torch.no_grad():
            w = self._bag("out_w", *event_bag(event.skills))
            b = self._bag("out_b", *event_bag(event.skills))
            h = torch.zeros(1, self.hidden, device=self.device) if state.h is None else state.h[-1]
            return float(torch.sigmoid((h * w).sum(-1) + b.view(-1)).item())

    def update(self, state: DKTState, event: Interaction) -> DKTState:
        """Feed one event through the LSTM (in place) and return the state."""
        torch = self._ready()
        with torch.no_grad():
            x = self._bag("inp", *event_bag(event.skills, event.correct))
            prev = None if state.h is None else (state.h, state.c)
            _, (state.h, state.c) = self.net["lstm"](x.view(1, 1, self.hidden), prev)
        state.n_events += 1
        return state
