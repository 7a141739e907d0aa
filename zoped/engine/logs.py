"""Reading interaction logs from files into :class:`~zoped.engine.base.InteractionLog`.

A log file is a table with one row per response: CSV or TSV (plain or gzipped) or Parquet.
A *column map* says which file column plays which role, so any dataset can be read without
per-dataset code::

    learner=user_id,skill=skill_id,item=problem_id,correct=correct,order=order_id

Roles: ``learner`` (required), ``correct`` (required), ``skill`` and ``item`` (at least one),
``order``, ``timestamp``, ``duration``, ``hints`` (optional). ``item`` may join several columns
with ``+`` (``item=Problem Name+Step Name``) for data whose item is a pair of columns.

Rules (also in ``docs/engine.md``):

- ``correct`` accepts 0/1, 0.0/1.0 and true/false (any case).
- An empty skill cell becomes the skill ``<none>`` (the row is kept, so item-based models and
  the learner's sequence are intact). Without a skill column, each item is its own skill.
- With ``skill_sep`` (e.g. ``~~``) a skill cell holding several skills is split into the row's
  CSR skill list; repeated skills in one cell are kept once.
- Timestamps are numeric seconds or ISO 8601 date-times (naive ones are read as UTC).
- Rows are sorted stably by learner (in order of first appearance) and then by ``order``
  (else by ``timestamp``, else file order); ties keep file order.
- Errors are :class:`~zoped.errors.InvalidInput` naming the column and the first bad row
  (``row`` counts data rows from 1, the header not included).
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zoped.engine.base import FloatArray, InteractionLog
from zoped.errors import InvalidInput, Problem

NO_SKILL = "<none>"
"""The skill given to rows whose skill cell is empty."""

_TRUE_WORDS = frozenset({"true", "t", "yes"})
_FALSE_WORDS = frozenset({"false", "f", "no"})


@dataclass(frozen=True)
class ColumnMap:
    """Which column of a file plays which role (``None``: the file has no such column).

    ``item`` may name several columns joined by ``+``; their values are joined into one id.
    """

    learner: str
    correct: str
    skill: str | None = None
    item: str | None = None
    order: str | None = None
    timestamp: str | None = None
    duration: str | None = None
    hints: str | None = None

    def source_columns(self) -> list[str]:
        """Every file column the map reads, without repeats."""
        names: list[str] = []
        for role in fields(self):
            value = getattr(self, role.name)
            if value is None:
                continue
            parts = value.split("+") if role.name == "item" else [value]
            names.extend(p for p in parts if p not in names)
        return names

    def spec(self) -> str:
        """The map written back as ``role=column,...`` (what :func:`parse_columns` reads)."""
        return ",".join(
            f"{f.name}={getattr(self, f.name)}" for f in fields(self) if getattr(self, f.name)
        )


_ROLES = tuple(f.name for f in fields(ColumnMap))


def parse_columns(spec: str) -> ColumnMap:
    """Parse ``role=column,role=column,...`` into a :class:`ColumnMap`.

    Args:
        spec: comma-separated ``role=column`` pairs. Column names may contain spaces and
            parentheses but not commas or ``=``.

    Returns:
        The column map.

    Raises:
        InvalidInput: an unknown or repeated role, a pair without ``=``, or a required role
            missing (``learner``, ``correct``, and ``skill`` or ``item``); every problem is listed.
    """
    problems: list[Problem] = []
    found: dict[str, str] = {}
    for raw in spec.split(","):
        pair = raw.strip()
        if not pair:
            continue
        role, sep, column = (s.strip() for s in pair.partition("="))
        if not sep or not role or not column:
            problems.append(Problem("columns", f"'{pair}' is not of the form role=column"))
        elif role not in _ROLES:
            problems.append(
                Problem("columns", f"unknown role '{role}' (known: {', '.join(_ROLES)})")
            )
        elif role in found:
            problems.append(Problem("columns", f"role '{role}' is given twice"))
        else:
            found[role] = column
    for role in ("learner", "correct"):
        if role not in found:
            problems.append(Problem("columns", f"the '{role}' role is required"))
    if "skill" not in found and "item" not in found:
        problems.append(Problem("columns", "a 'skill' or an 'item' column is required"))
    if problems:
        raise InvalidInput("bad column mapping", problems)
    return ColumnMap(**found)


def _open_text_head(path: Path) -> str:
    """The first line of a (possibly gzipped) text file, for sniffing the delimiter."""
    with path.open("rb") as raw:
        magic = raw.read(2)
    opener: Any = gzip.open if magic == b"\x1f\x8b" else open
    with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as handle:
        return str(handle.readline())


def _is_parquet(path: Path) -> bool:
    with path.open("rb") as raw:
        return raw.read(4) == b"PAR1"


def _sniff_delimiter(header: str) -> str:
    # The header line decides: tab-separated exports (DataShop, Gervet et al.) have more tabs
    # than commas even when their column names contain commas.
    counts = {d: header.count(d) for d in ("\t", ",", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _read_frame(path: Path, columns: ColumnMap) -> pd.DataFrame:
    """Read the mapped columns of one file; cells stay strings, empty cells become NaN."""
    where = path.name
    if not path.is_file():
        raise InvalidInput(f"cannot read {path}", [Problem(where, "no such file")])
    if path.stat().st_size == 0:
        raise InvalidInput(f"cannot read {path}", [Problem(where, "the file is empty")])
    wanted = columns.source_columns()
    if _is_parquet(path):
        import pyarrow.parquet as pq

        available = list(pq.read_schema(path).names)
        _check_columns(where, wanted, available)
        frame = pq.read_table(path, columns=wanted).to_pandas()
    else:
        header = _open_text_head(path)
        if not header.strip():
            raise InvalidInput(f"cannot read {path}", [Problem(where, "the file is empty")])
        sep = _sniff_delimiter(header)
        compression = "gzip" if _is_gzip(path) else None
        available = list(pd.read_csv(path, sep=sep, nrows=0, compression=compression).columns)
        _check_columns(where, wanted, available)
        frame = pd.read_csv(
            path,
            sep=sep,
            usecols=wanted,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            compression=compression,
            low_memory=False,
        )
    if len(frame) == 0:
        raise InvalidInput(f"cannot read {path}", [Problem(where, "the file has no data rows")])
    return frame


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as raw:
        return raw.read(2) == b"\x1f\x8b"


def _check_columns(where: str, wanted: list[str], available: list[str]) -> None:
    missing = [c for c in wanted if c not in available]
    if missing:
        shown = ", ".join(repr(c) for c in available[:40])
        raise InvalidInput(
            "the column mapping names columns the file does not have",
            [Problem(f"{where}:{c}", f"no such column; the file has {shown}") for c in missing],
        )


def _first_bad(mask: np.ndarray[Any, np.dtype[np.bool_]]) -> int:
    return int(np.flatnonzero(mask)[0])


def _bad_cell(where: str, column: str, row: int, value: object, why: str) -> InvalidInput:
    return InvalidInput(
        f"bad value in column '{column}'",
        [Problem(f"{where}:{column}", f"row {row + 1}: {value!r} {why}")],
    )


def _parse_correct(series: pd.Series, where: str, column: str) -> np.ndarray[Any, Any]:
    numeric: FloatArray = pd.to_numeric(series, errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    words = series.astype("string").str.strip().str.lower()
    numeric = np.where(words.isin(_TRUE_WORDS).to_numpy(dtype=bool), 1.0, numeric)
    numeric = np.where(words.isin(_FALSE_WORDS).to_numpy(dtype=bool), 0.0, numeric)
    bad = ~np.isin(numeric, (0.0, 1.0))
    if bad.any():
        row = _first_bad(bad)
        raise _bad_cell(where, column, row, series.iloc[row], "is not 0/1 or true/false")
    return numeric.astype(np.int8)


def _parse_seconds(series: pd.Series, where: str, column: str) -> FloatArray:
    """Numeric seconds, or ISO 8601 date-times turned into seconds since the epoch (UTC)."""
    numeric: FloatArray = pd.to_numeric(series, errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    if not np.isnan(numeric).any():
        return numeric
    text = series.astype("string")
    parsed = pd.to_datetime(text, errors="coerce", utc=True, format="ISO8601")
    as_dates = parsed.notna().to_numpy(dtype=bool)
    if as_dates.any():
        # Seconds since the epoch, vectorised; NaT (not a date) becomes NaN.
        seconds = (parsed - pd.Timestamp(0, tz="UTC")).dt.total_seconds()
        numeric = np.where(as_dates, seconds.to_numpy(dtype=np.float64, na_value=np.nan), numeric)
    bad = np.isnan(numeric)
    if bad.any():
        row = _first_bad(bad)
        raise _bad_cell(
            where, column, row, series.iloc[row], "is neither seconds nor an ISO date-time"
        )
    return numeric


def _parse_optional_number(series: pd.Series, where: str, column: str) -> FloatArray:
    numeric: FloatArray = pd.to_numeric(series, errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    bad = np.isnan(numeric) & series.notna().to_numpy(dtype=bool)
    if bad.any():
        row = _first_bad(bad)
        raise _bad_cell(where, column, row, series.iloc[row], "is not a number")
    return numeric


def _item_series(frame: pd.DataFrame, spec: str) -> pd.Series:
    parts = spec.split("+")
    if len(parts) == 1:
        return frame[parts[0]]
    joined = frame[parts[0]].astype("string").fillna("")
    for part in parts[1:]:
        joined = joined + "|" + frame[part].astype("string").fillna("")
    return joined


def _parse_frame(frame: pd.DataFrame, columns: ColumnMap, where: str) -> dict[str, Any]:
    learner = frame[columns.learner]
    missing = learner.isna().to_numpy(dtype=bool)
    if missing.any():
        row = _first_bad(missing)
        raise InvalidInput(
            f"missing learner id in column '{columns.learner}'",
            [Problem(f"{where}:{columns.learner}", f"row {row + 1}: the learner id is empty")],
        )
    out: dict[str, Any] = {
        "learner": learner.astype(str),
        "correct": _parse_correct(frame[columns.correct], where, columns.correct),
        "skill": None if columns.skill is None else frame[columns.skill],
        "item": None if columns.item is None else _item_series(frame, columns.item),
        "order": None,
        "timestamp": None,
        "duration": None,
        "hints": None,
    }
    if columns.order is not None:
        out["order"] = _parse_seconds(frame[columns.order], where, columns.order)
    if columns.timestamp is not None:
        out["timestamp"] = _parse_seconds(frame[columns.timestamp], where, columns.timestamp)
    if columns.duration is not None:
        out["duration"] = _parse_optional_number(frame[columns.duration], where, columns.duration)
    if columns.hints is not None:
        out["hints"] = _parse_optional_number(frame[columns.hints], where, columns.hints)
    return out


def _encode_skills(
    skill: pd.Series, n_rows: int, skill_sep: str | None
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """CSR skill lists (ptr, idx) and the skill vocabulary, vectorised over rows."""
    text = skill.astype("string").str.strip().fillna(NO_SKILL).replace("", NO_SKILL)
    if skill_sep is None:
        codes, vocab = pd.factorize(text)
        ptr = np.arange(n_rows + 1, dtype=np.int64)
        return ptr, codes.astype(np.int64), np.asarray(vocab, dtype=object)
    parts = text.str.split(skill_sep, regex=False).explode()
    parts = parts.str.strip()
    rows = parts.index.to_numpy(dtype=np.int64)
    # Empty pieces ("a~~" or "~~a") are dropped; a row left with none gets <none>.
    keep = (parts != "").to_numpy(dtype=bool)
    empty_rows = np.setdiff1d(np.arange(n_rows), rows[keep])
    rows = np.concatenate([rows[keep], empty_rows])
    values = pd.concat(
        [parts[keep].reset_index(drop=True), pd.Series([NO_SKILL] * len(empty_rows))],
        ignore_index=True,
    )
    codes, vocab = pd.factorize(values)
    codes = codes.astype(np.int64)
    # One entry per (row, skill): repeated skills in a cell count once; sorted by row.
    pairs = np.unique(rows * len(vocab) + codes)
    rows, codes = pairs // len(vocab), pairs % len(vocab)
    ptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=ptr[1:])
    return ptr, codes, np.asarray(vocab, dtype=object)


def load_logs(
    paths: Sequence[Path],
    columns: ColumnMap | str,
    skill_sep: str | None = None,
) -> list[InteractionLog]:
    """Read several files with the same column map into logs that share vocabularies.

    Codes mean the same in every returned log, so a model fitted on the first can predict the
    second (e.g. a dataset shipped as separate train and test files). A learner id found in
    several files is the same learner; the file order then comes before the ``order`` column.

    Args:
        paths: the files, each CSV/TSV (optionally gzipped) or Parquet.
        columns: a :class:`ColumnMap` or its ``role=column,...`` spec.
        skill_sep: separator of several skills in one skill cell, or None.

    Returns:
        One log per path, in the same order.

    Raises:
        InvalidInput: a missing file or column, an empty file, a missing learner id, a
            ``correct`` value that is not 0/1, an unparsable number or timestamp.
    """
    colmap = parse_columns(columns) if isinstance(columns, str) else columns
    if not paths:
        raise InvalidInput("no log file given")
    parsed = [_parse_frame(_read_frame(Path(p), colmap), colmap, Path(p).name) for p in paths]
    sizes = [len(p["correct"]) for p in parsed]
    n = int(sum(sizes))

    def cat_array(key: str) -> np.ndarray[Any, Any] | None:
        if parsed[0][key] is None:
            return None
        return np.concatenate([p[key] for p in parsed])

    def cat_series(key: str) -> pd.Series | None:
        if parsed[0][key] is None:
            return None
        return pd.concat([p[key] for p in parsed], ignore_index=True)

    learner_text = cat_series("learner")
    assert learner_text is not None
    learner_codes, learner_vocab = pd.factorize(learner_text)
    learner_codes = learner_codes.astype(np.int64)
    item = cat_series("item")
    item_codes = np.full(n, -1, dtype=np.int64)
    item_vocab = np.asarray([], dtype=object)
    if item is not None:
        item = item.astype("string").str.strip().fillna(NO_SKILL).replace("", NO_SKILL)
        codes, vocab = pd.factorize(item)
        item_codes, item_vocab = codes.astype(np.int64), np.asarray(vocab, dtype=object)
    # Without a skill column every item is its own skill (documented in docs/engine.md).
    skill = cat_series("skill")
    skill_source = skill if skill is not None else item
    assert skill_source is not None  # parse_columns requires a skill or an item column
    ptr, skill_idx, skill_vocab = _encode_skills(skill_source, n, skill_sep)

    file_index = np.repeat(np.arange(len(paths), dtype=np.int64), sizes)
    timestamp = cat_array("timestamp")
    order_src = cat_array("order")
    has_order = order_src is not None or timestamp is not None
    if order_src is None:
        order_src = timestamp if timestamp is not None else np.zeros(n)
    hints = cat_array("hints")
    if hints is not None:
        hints = np.where(np.isnan(hints), -1, hints).astype(np.int64)
    correct = cat_array("correct")
    assert correct is not None
    unsorted = InteractionLog(
        learner=learner_codes,
        item=item_codes,
        skill_ptr=ptr,
        skill_idx=skill_idx,
        correct=correct,
        order=order_src.astype(np.float64),
        learner_ids=np.asarray(learner_vocab, dtype=object),
        skill_ids=skill_vocab,
        item_ids=item_vocab,
        timestamp_s=timestamp,
        duration_s=cat_array("duration"),
        hints=hints,
        meta={"columns": colmap.spec(), "skill_sep": skill_sep},
    )
    # Stable sort (lexsort is): learner first, then file, then order; ties keep file order.
    perm = np.lexsort((order_src, file_index, learner_codes)).astype(np.int64)
    full = unsorted.take_rows(perm)
    if not has_order:
        # Order = position within the learner, so it is non-decreasing as the log requires.
        starts = np.searchsorted(full.learner, full.learner)
        full.order[:] = np.arange(n) - starts
    files_sorted = file_index[perm]
    logs = []
    for k, path in enumerate(paths):
        part = full.take_rows(np.flatnonzero(files_sorted == k))
        part.meta["source"] = str(Path(path).name)
        logs.append(part)
    return logs


def load_log(
    path: Path | str, columns: ColumnMap | str, skill_sep: str | None = None
) -> InteractionLog:
    """Read one log file (CSV/TSV, plain or gzipped, or Parquet) with a column map.

    Args:
        path: the file; gzip and Parquet are recognised by their first bytes.
        columns: a :class:`ColumnMap` or its ``role=column,...`` spec.
        skill_sep: separator of several skills in one skill cell (e.g. ``~~``), or None.

    Returns:
        The log, sorted by learner then order, validated.

    Raises:
        InvalidInput: see :func:`load_logs`.
    """
    log = load_logs([Path(path)], columns, skill_sep)[0]
    log.validate()
    return log
