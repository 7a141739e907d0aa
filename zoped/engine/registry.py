"""Learner models by name, imported lazily.

Each name maps to a ``"module:Class"`` string; the module is imported only when the model is
asked for, so a model whose dependencies are missing (torch for the deep ones) never breaks
the others. :func:`available_models` tells which import and why the others do not.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from dataclasses import dataclass
from typing import Any

from zoped.engine.base import LearnerModel
from zoped.errors import InvalidInput, Problem

MODELS: dict[str, str] = {
    "skillrate": "zoped.engine.baseline:SkillRate",
    "bkt": "zoped.engine.bkt:BKT",
    "elo": "zoped.engine.elo:Elo",
    "irt": "zoped.engine.irt:IRT1PL",
    "irt2pl": "zoped.engine.irt:IRT2PL",
    "lr": "zoped.engine.logistic:BestLR",
    "das3h": "zoped.engine.logistic:DAS3H",
    "memory": "zoped.engine.memory:MemoryModel",
    "dkt": "zoped.engine.deep.dkt:DKT",
    "sakt": "zoped.engine.deep.sakt:SAKT",
    "akt": "zoped.engine.deep.akt:AKT",
}
"""Model name -> ``"module:Class"``."""

NEEDS: dict[str, str] = {"dkt": "torch", "sakt": "torch", "akt": "torch"}
"""Model name -> the optional module it needs to fit (its module imports without it)."""


def missing_dependency(name: str) -> str | None:
    """Why ``name`` cannot fit here (an optional module is not installed), or None."""
    module = NEEDS.get(name)
    if module is None or importlib.util.find_spec(module) is not None:
        return None
    return f"needs {module}, not installed here: pip install 'zoped[deep]'"


@dataclass(frozen=True)
class ModelAvailability:
    """Whether a registered model imports, and why not when it does not."""

    name: str
    target: str
    available: bool
    reason: str = ""


def _unknown(name: str) -> InvalidInput:
    return InvalidInput(
        f"unknown model '{name}'",
        [Problem("model", f"known models: {', '.join(sorted(MODELS))}")],
    )


def model_class(name: str) -> type[Any]:
    """Import and return the class registered as ``name``.

    Raises:
        InvalidInput: the name is unknown, or the model cannot be imported (with the reason,
            e.g. a missing optional dependency).
    """
    if name not in MODELS:
        raise _unknown(name)
    module_name, _, class_name = MODELS[name].partition(":")
    try:
        module = importlib.import_module(module_name)
        cls = getattr(module, class_name)
    except ImportError as error:
        raise InvalidInput(
            f"model '{name}' is not available",
            [Problem("model", f"cannot import {MODELS[name]}: {error}")],
        ) from error
    except AttributeError as error:
        raise InvalidInput(
            f"model '{name}' is not available",
            [Problem("model", f"{module_name} has no {class_name}")],
        ) from error
    if not isinstance(cls, type):
        raise InvalidInput(
            f"model '{name}' is not available", [Problem("model", f"{MODELS[name]} is no class")]
        )
    return cls


def available_models() -> list[ModelAvailability]:
    """Every registered model, sorted by name, with whether it imports here."""
    out = []
    for name in sorted(MODELS):
        try:
            model_class(name)
        except InvalidInput as error:
            reason = "; ".join(p.message for p in error.problems) or error.message
            out.append(ModelAvailability(name, MODELS[name], False, reason))
        except Exception as error:  # a half-written model module must not hide the rest
            out.append(
                ModelAvailability(name, MODELS[name], False, f"{type(error).__name__}: {error}")
            )
        else:
            out.append(ModelAvailability(name, MODELS[name], True))
    return out


def _convert(text: str, default: Any, annotation: Any) -> Any:
    """Turn a ``--param`` string into the type of the constructor's default or annotation."""
    low = text.strip().lower()
    if low in ("none", "null") and (default is None or "None" in str(annotation)):
        return None
    kind = type(default) if default is not None else None
    hint = str(annotation)
    if kind is bool or (kind is None and hint.startswith("bool")):
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise ValueError("expected true or false")
    if kind is int or (kind is None and hint.startswith("int")):
        return int(text)
    if kind is float or (kind is None and "float" in hint):
        return float(text)
    return text


def make_model(name: str, params: dict[str, str] | None = None, seed: int = 0) -> LearnerModel:
    """Build the model ``name`` with hyperparameters given as strings (from the command line).

    Each value is converted to the type of the constructor parameter's default (bool, int,
    float, None or str). ``seed`` is passed when the constructor takes one.

    Raises:
        InvalidInput: unknown model or parameter, or a value of the wrong type (all listed).
    """
    cls = model_class(name)
    signature = inspect.signature(cls)
    accepted = {
        p.name: p
        for p in signature.parameters.values()
        if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    }
    kwargs: dict[str, Any] = {}
    problems: list[Problem] = []
    for key, text in (params or {}).items():
        if key not in accepted:
            known = ", ".join(sorted(k for k in accepted if k != "seed")) or "none"
            problems.append(Problem(f"param {key}", f"unknown for {name}; known: {known}"))
            continue
        spec = accepted[key]
        default = None if spec.default is inspect.Parameter.empty else spec.default
        try:
            kwargs[key] = _convert(text, default, spec.annotation)
        except ValueError as error:
            problems.append(Problem(f"param {key}", f"{text!r}: {error}"))
    if problems:
        raise InvalidInput(f"bad hyperparameters for {name}", problems)
    if "seed" in accepted and "seed" not in kwargs:
        kwargs["seed"] = seed
    try:
        model = cls(**kwargs)
    except (TypeError, ValueError) as error:
        raise InvalidInput(
            f"bad hyperparameters for {name}", [Problem("param", str(error))]
        ) from error
    return model  # type: ignore[no-any-return]


def parse_params(pairs: list[str]) -> dict[str, str]:
    """Parse ``key=value`` strings (``--param``) into a dict.

    Raises:
        InvalidInput: a pair without ``=`` or a repeated key.
    """
    out: dict[str, str] = {}
    problems = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            problems.append(Problem("param", f"'{pair}' is not key=value"))
        elif key in out:
            problems.append(Problem("param", f"'{key}' is given twice"))
        else:
            out[key] = value.strip()
    if problems:
        raise InvalidInput("bad --param", problems)
    return out
