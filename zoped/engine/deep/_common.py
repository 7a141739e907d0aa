"""What DKT, SAKT and AKT share: lazy torch import, row bags, the Adam loop, npz persistence.

Torch is imported only when a model is built or loaded, so ``import zoped.engine.deep.dkt``
works without the ``[deep]`` extra and the first real use says how to install it.

Multi-skill rows: a row enters a network as an *embedding bag*, the mean of the embeddings of
its skills (of its (skill, outcome) pairs for the interaction input). Each row gets one
prediction, never one per skill, so the outcome of a multi-skill row is never used to predict
itself (the label leak that pyKT found in expanded-row evaluation).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
from numpy.typing import NDArray

from zoped.engine.base import FloatArray, IntArray, InteractionLog
from zoped.errors import EngineError, InvalidInput, NotFitted, Problem

_FORMAT_VERSION = 1


def import_torch() -> Any:
    """The torch module, or EngineError telling how to install it."""
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise EngineError(
            "the deep models (DKT, SAKT, AKT) need PyTorch: pip install 'zoped[deep]'"
        ) from exc
    return torch


def resolve_device(torch: Any, device: str) -> str:
    """``"auto"`` means CUDA when available, else CPU; anything else is used as given."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def bag_inputs(
    skill_ptr: IntArray, skill_idx: IntArray, rows: IntArray, correct: NDArray[Any] | None = None
) -> tuple[IntArray, IntArray]:
    """Flat indices and offsets for ``EmbeddingBag`` over ``rows`` (-1 = padding, empty bag).

    With ``correct``, the index of skill ``k`` answered ``c`` is ``2 k + c`` (interaction bags).
    """
    rows = np.asarray(rows, dtype=np.int64).ravel()
    valid = rows >= 0
    safe = np.where(valid, rows, 0)
    counts = np.where(valid, skill_ptr[safe + 1] - skill_ptr[safe], 0)
    offsets = np.zeros(rows.shape[0], dtype=np.int64)
    np.cumsum(counts[:-1], out=offsets[1:])
    total = int(counts.sum())
    within = np.arange(total, dtype=np.int64) - np.repeat(offsets, counts)
    idx = skill_idx[np.repeat(skill_ptr[safe], counts) + within].astype(np.int64)
    if correct is not None:
        idx = 2 * idx + np.repeat(np.asarray(correct)[safe], counts).astype(np.int64)
    return idx, offsets


def event_bag(skills: tuple[int, ...], correct: bool | None = None) -> tuple[IntArray, IntArray]:
    """The bag of one online event, as :func:`bag_inputs` would build it."""
    idx = np.asarray(skills, dtype=np.int64)
    if correct is not None:
        idx = 2 * idx + int(correct)
    return idx, np.zeros(1, dtype=np.int64)


def batch_loss(
    torch: Any, logits: Any, target: Any, penalty: Any, batch_size: int, row_weighted: bool
) -> tuple[Any, float]:
    """The loss of one optimiser step, and its rows' summed cross-entropy (for the log).

    ``row_weighted``: the cross-entropy and ``penalty`` summed over the step's rows, divided by
    ``batch_size`` (a constant, so a step's weight follows its number of rows). Otherwise their
    mean, so every step weighs the same whatever its number of rows: when steps group
    sequences of similar length (AKT), that gives a short learner's rows many times the weight
    of a long learner's, and the test AUC counts every row once.
    """
    summed = torch.nn.functional.binary_cross_entropy_with_logits(logits, target, reduction="sum")
    if row_weighted:
        return (summed + penalty) / batch_size, float(summed.detach())
    return summed / max(len(target), 1) + penalty, float(summed.detach())


class SequenceModel:
    """Base of the torch sequence models: options, Adam training, prediction, persistence.

    Subclasses build their network in ``_build`` and walk a log in ``_passes``, which yields
    ``(rows, logits)`` pairs; the base turns them into optimiser steps or predictions.

    Args:
        hidden: width of the embeddings and hidden state.
        window: rows per training window (and, for SAKT, how many past rows it attends to).
        epochs: passes over the training log.
        batch_size: sequences (DKT) or windows (SAKT) per optimiser step.
        lr: Adam learning rate.
        dropout: dropout rate during training.
        seed: seeds initialisation, dropout and the batch order.
        device: ``"auto"`` (CUDA when present, else CPU), ``"cpu"``, ``"cuda"``, ...
    """

    name: ClassVar[str] = ""
    row_weighted: ClassVar[bool] = False
    """Whether every row weighs the same in training (see :func:`batch_loss`)."""

    def __init__(
        self,
        *,
        hidden: int = 64,
        window: int = 100,
        epochs: int = 5,
        batch_size: int = 32,
        lr: float = 1e-3,
        dropout: float = 0.2,
        seed: int = 0,
        device: str = "auto",
    ) -> None:
        problems = [
            Problem(name, "must be a positive integer")
            for name, value in (
                ("hidden", hidden),
                ("window", window),
                ("epochs", epochs),
                ("batch_size", batch_size),
            )
            if value < 1
        ]
        if not lr > 0:
            problems.append(Problem("lr", "must be positive"))
        if not 0 <= dropout < 1:
            problems.append(Problem("dropout", "must be in [0, 1)"))
        if problems:
            raise InvalidInput(f"invalid {self.name} options", problems)
        self.hidden = hidden
        self.window = window
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.dropout = dropout
        self.seed = seed
        self.device = device
        self.n_skills = 0
        self.net: Any = None
        self.fit_summary: dict[str, Any] = {}
        self._torch: Any = None

    # ------------------------------------------------------------ for subclasses

    def _build(self, torch: Any, n_skills: int) -> Any:
        raise NotImplementedError

    def _passes(
        self, log: InteractionLog, rng: np.random.Generator | None
    ) -> Iterator[tuple[IntArray, Any]]:
        """Yield (rows, logits) over the whole log; shuffled batches when ``rng`` is given."""
        raise NotImplementedError

    def _penalty(self) -> Any:
        """A term added to the loss of the batch just yielded by ``_passes`` (none here)."""
        return 0.0

    def _prepare(self, log: InteractionLog) -> None:
        """Read what the network's size depends on besides the skills (nothing here)."""

    @classmethod
    def _from_config(cls, config: dict[str, Any], device: str) -> Self:
        """An unbuilt model with the options saved in ``config``."""
        options = {k: config[k] for k in ("hidden", "window", "epochs", "batch_size", "lr")}
        return cls(**options, dropout=config["dropout"], seed=config["seed"], device=device)

    # ------------------------------------------------------------------ shared

    def config(self) -> dict[str, Any]:
        """The options and vocabulary size, as saved next to the weights."""
        return {
            "model": self.name,
            "format_version": _FORMAT_VERSION,
            "hidden": self.hidden,
            "window": self.window,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "lr": self.lr,
            "dropout": self.dropout,
            "seed": self.seed,
            "n_skills": self.n_skills,
        }

    def _ready(self) -> Any:
        if self.net is None:
            raise NotFitted(f"the {self.name} model has no weights: call fit() or load() first")
        return self._torch

    def _init_net(self, n_skills: int) -> None:
        torch = import_torch()
        self._torch = torch
        self.device = resolve_device(torch, self.device)
        self.n_skills = n_skills
        self.net = self._build(torch, n_skills).to(self.device)

    def _check_skills(self, log: InteractionLog) -> None:
        top = int(log.skill_idx.max(initial=-1))
        if top >= self.n_skills:
            raise InvalidInput(
                f"the {self.name} model knows {self.n_skills} skills",
                [Problem("skill_idx", f"has skill code {top}")],
            )

    def fit(
        self, log: InteractionLog, *, after_epoch: Callable[[int, Self], bool] | None = None
    ) -> Self:
        """Train with Adam on binary cross-entropy of each row's outcome given earlier rows.

        Args:
            log: the training rows.
            after_epoch: called with the epoch number (from 1) and the model, in evaluation
                mode, after each epoch (e.g. to score a validation split and keep the best
                weights); training stops early when it returns False.
        """
        log.validate()
        if len(log) == 0:
            raise InvalidInput("cannot fit on an empty log", [Problem("log", "has no rows")])
        n_skills = max(log.n_skills, int(log.skill_idx.max(initial=-1)) + 1)
        torch = import_torch()
        rng = np.random.default_rng(self.seed)
        y_all = torch.as_tensor(np.asarray(log.correct, dtype=np.float32))
        losses: list[float] = []
        # Fork the global torch RNG so that seeding here leaves the caller's stream untouched.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self._prepare(log)
            self._init_net(n_skills)
            opt = torch.optim.Adam(self.net.parameters(), lr=self.lr)
            self.net.train()
            for _ in range(self.epochs):
                total, count = 0.0, 0
                for rows, logits in self._passes(log, rng):
                    target = y_all[torch.as_tensor(rows)].to(self.device)
                    loss, summed = batch_loss(
                        torch, logits, target, self._penalty(), self.batch_size, self.row_weighted
                    )
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    total += float(summed)
                    count += len(rows)
                losses.append(total / max(count, 1))
                if after_epoch is not None:
                    self.net.eval()
                    if not after_epoch(len(losses), self):
                        break
                    self.net.train()
        self.net.eval()
        self.fit_summary = {"rows": len(log), "train_loss": losses, "device": self.device}
        return self

    def predict_proba(self, log: InteractionLog) -> FloatArray:
        """P(correct) per row from earlier rows of the same learner only."""
        torch = self._ready()
        log.validate()
        self._check_skills(log)
        out = np.full(len(log), np.nan)
        self.net.eval()
        with torch.no_grad():
            for rows, logits in self._passes(log, None):
                out[rows] = torch.sigmoid(logits).double().cpu().numpy()
        return out

    def save(self, path: Path) -> None:
        """Weights and options in one ``.npz`` (tensors as arrays, options as JSON; no pickle)."""
        self._ready()
        arrays = {f"w/{k}": v.detach().cpu().numpy() for k, v in self.net.state_dict().items()}
        with Path(path).open("wb") as fh:
            np.savez(fh, config=np.array(json.dumps(self.config())), **arrays)

    @classmethod
    def load(cls, path: Path, device: str = "auto") -> Self:
        """Read a model written by :meth:`save` onto ``device``.

        Raises:
            InvalidInput: not a file of this model and format version.
        """
        try:
            with np.load(Path(path), allow_pickle=False) as data:
                config = json.loads(str(data["config"]))
                weights = {k[2:]: np.array(data[k]) for k in data.files if k.startswith("w/")}
        except (OSError, ValueError, KeyError) as exc:
            raise InvalidInput(
                f"cannot read {cls.name} model", [Problem(str(path), str(exc))]
            ) from exc
        if config.get("model") != cls.name or config.get("format_version") != _FORMAT_VERSION:
            raise InvalidInput(
                f"not a {cls.name} model file",
                [Problem(str(path), f"model={config.get('model')!r}")],
            )
        model = cls._from_config(config, device)
        model._init_net(int(config["n_skills"]))
        torch = model._torch
        model.net.load_state_dict({k: torch.as_tensor(v) for k, v in weights.items()})
        model.net.eval()
        return model
