"""Reading interaction logs from files into :class:`~zoped.engine.base.InteractionLog`.

Three file *layouts* are read, all without per-dataset code (``docs/engine.md`` has the details):

- ``long`` (the default): a table with one row per response, CSV or TSV (plain or gzipped) or
  Parquet. A *column map* says which file column plays which role::

      learner=user_id,skill=skill_id,item=problem_id,correct=correct,order=order_id

- ``dkt-lines``: the DKT text format, one sequence per two or three lines: the number of
  responses, an optional line of skill ids, a line of 0/1. Read as the columns ``sequence``
  (1-based index of the sequence: the learner), ``position`` (0-based), ``skill`` and ``correct``.
- ``wide``: one row per learner and one column per item, cells 0/1 (blank: not answered). Read
  as the columns ``row`` (1-based data row: the learner unless the map names a learner column),
  ``item`` (the column's header, or its 1-based number in a file without a header),
  ``position`` (0-based column index among the items) and ``correct``.

For ``dkt-lines`` and ``wide`` the column map is optional and completes the layout's default
map (:data:`LAYOUT_COLUMNS`); e.g. ``learner=person`` names a wide file's id column, which is
then not an item. Every layout also has the column ``source``, the name of the file a row came
from (a file's own column of that name wins). A path may be a folder or a glob
(``'glops/*.csv'``): its files are read into one log, so ``skill=source`` makes each file a skill.

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
- Rows are sorted stably by learner (in order of first appearance), then by file, then by
  ``order`` (else by ``timestamp``, else file order); ties keep file order.
- Errors are :class:`~zoped.errors.InvalidInput` located at ``file:column`` and naming the
  first bad row (``row`` counts data rows from 1, the header not included) or, for
  ``dkt-lines``, the line (counted from 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zoped.engine.base import FloatArray, InteractionLog
from zoped.engine.log_files import (
    LAYOUT_COLUMNS,
    NO_SKILL,
    ColumnMap,
    Layout,
    bad_cell,
    check_columns,
    column_map,
    expand_paths,
    first_bad,
    parse_columns,
    parse_correct,
    parse_layout,
    read_dkt_lines,
    read_frame,
    read_wide,
)
from zoped.errors import InvalidInput, Problem


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
        row = first_bad(bad)
        raise bad_cell(
            where, column, row, series.iloc[row], "is neither seconds nor an ISO date-time"
        )
    return numeric


def _parse_optional_number(series: pd.Series, where: str, column: str) -> FloatArray:
    numeric: FloatArray = pd.to_numeric(series, errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    bad = np.isnan(numeric) & series.notna().to_numpy(dtype=bool)
    if bad.any():
        row = first_bad(bad)
        raise bad_cell(where, column, row, series.iloc[row], "is not a number")
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
        row = first_bad(missing)
        raise InvalidInput(
            f"missing learner id in column '{columns.learner}'",
            [Problem(f"{where}:{columns.learner}", f"row {row + 1}: the learner id is empty")],
        )
    out: dict[str, Any] = {
        "learner": learner.astype(str),
        "correct": parse_correct(frame[columns.correct], where, columns.correct),
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


def _read_layout(
    path: Path,
    colmap: ColumnMap,
    layout: Layout,
    learner_prefix: str,
    max_rows: int | None,
) -> pd.DataFrame:
    """One file as a long frame holding (at least) the columns the map names."""
    if layout is Layout.LONG:
        return read_frame(path, colmap, max_rows)
    if layout is Layout.DKT_LINES:
        frame = read_dkt_lines(path, learner_prefix, max_rows)
    else:
        frame = read_wide(path, colmap, learner_prefix, max_rows)
    check_columns(path.name, colmap.source_columns(), list(frame.columns))
    return frame


def load_logs(
    paths: Sequence[Path | str],
    columns: ColumnMap | str | None,
    skill_sep: str | None = None,
    *,
    layout: Layout | str = Layout.LONG,
    max_rows: int | None = None,
) -> list[InteractionLog]:
    """Read several files with the same column map into logs that share vocabularies.

    Codes mean the same in every returned log, so a model fitted on the first can predict the
    second (e.g. a dataset shipped as separate train and test files). A learner id found in
    several files is the same learner; the file order then comes before the ``order`` column.
    A path that is a folder or a glob gives one log of all its files (see :func:`expand_paths`).
    The learner ids that ``dkt-lines`` and ``wide`` number (``sequence``, ``row``) are
    prefixed with ``<file name>:`` when more than one file is read, so they stay distinct.

    Args:
        paths: the files, folders or globs; files are CSV/TSV (optionally gzipped) or Parquet
            for ``long``, text (optionally gzipped) for the other layouts.
        columns: a :class:`ColumnMap` or its ``role=column,...`` spec; optional for the
            ``dkt-lines`` and ``wide`` layouts (see :data:`LAYOUT_COLUMNS`).
        skill_sep: separator of several skills in one skill cell, or None.
        layout: ``long``, ``dkt-lines`` or ``wide`` (:class:`Layout`).
        max_rows: read at most this many records of each file (data rows; sequences for
            ``dkt-lines``), e.g. for a quick check; None reads everything.

    Returns:
        One log per path, in the same order.

    Raises:
        InvalidInput: a missing file or column, an empty file, a missing learner id, a
            ``correct`` value that is not 0/1, an unparsable number or timestamp, a DKT
            sequence whose lines disagree, an unknown layout.
    """
    kind = parse_layout(layout)
    colmap = column_map(columns, kind)
    if not paths:
        raise InvalidInput("no log file given")
    groups = [expand_paths(p) for p in paths]
    files = [f for group in groups for f in group]
    several = len(files) > 1
    parsed = [
        _parse_frame(
            _read_layout(f, colmap, kind, f"{f.name}:" if several else "", max_rows),
            colmap,
            f.name,
        )
        for f in files
    ]
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

    file_index = np.repeat(np.arange(len(files), dtype=np.int64), sizes)
    group_of_file = np.repeat(np.arange(len(groups)), [len(g) for g in groups])
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
        meta={"columns": colmap.spec(), "skill_sep": skill_sep, "layout": kind.value},
    )
    # Stable sort (lexsort is): learner first, then file, then order; ties keep file order.
    perm = np.lexsort((order_src, file_index, learner_codes)).astype(np.int64)
    full = unsorted.take_rows(perm)
    if not has_order:
        # Order = position within the learner, so it is non-decreasing as the log requires.
        starts = np.searchsorted(full.learner, full.learner)
        full.order[:] = np.arange(n) - starts
    groups_sorted = group_of_file[file_index[perm]]
    logs = []
    for k, path in enumerate(paths):
        part = full.take_rows(np.flatnonzero(groups_sorted == k))
        part.meta["source"] = str(Path(path).name)
        logs.append(part)
    return logs


def load_log(
    path: Path | str,
    columns: ColumnMap | str | None,
    skill_sep: str | None = None,
    *,
    layout: Layout | str = Layout.LONG,
    max_rows: int | None = None,
) -> InteractionLog:
    """Read one log: a file, or a folder or glob of files read together.

    Args:
        path: the file (gzip and Parquet are recognised by their first bytes), a folder, or a
            glob such as ``'data/*.csv'``.
        columns: a :class:`ColumnMap` or its ``role=column,...`` spec (optional for the
            ``dkt-lines`` and ``wide`` layouts).
        skill_sep: separator of several skills in one skill cell (e.g. ``~~``), or None.
        layout: ``long``, ``dkt-lines`` or ``wide``.
        max_rows: read at most this many records of each file (see :func:`load_logs`).

    Returns:
        The log, sorted by learner then order, validated.

    Raises:
        InvalidInput: see :func:`load_logs`.
    """
    log = load_logs([path], columns, skill_sep, layout=layout, max_rows=max_rows)[0]
    log.validate()
    return log


__all__ = [
    "LAYOUT_COLUMNS",
    "NO_SKILL",
    "ColumnMap",
    "Layout",
    "column_map",
    "expand_paths",
    "load_log",
    "load_logs",
    "parse_columns",
    "parse_layout",
]
