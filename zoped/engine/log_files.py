"""The file side of reading interaction logs (:mod:`zoped.engine.logs`): layouts, column maps,
finding the files of a path, and reading each layout (long tables, DKT lines, wide tables) into
a frame of strings, with errors located at ``file:column`` and row.
"""

from __future__ import annotations

import glob
import gzip
from dataclasses import dataclass, fields
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zoped.engine.base import FloatArray
from zoped.errors import InvalidInput, Problem

NO_SKILL = "<none>"
"""The skill given to rows whose skill cell is empty."""

SOURCE_COLUMN = "source"
"""The column, in every layout, holding the name of the file a row came from."""

DATA_SUFFIXES = (".csv", ".tsv", ".txt", ".gz", ".parquet")
"""Files of a folder that are read when the path is a folder (others, e.g. README.md, are not)."""


class Layout(StrEnum):
    """How a file lays out the responses."""

    LONG = "long"
    DKT_LINES = "dkt-lines"
    WIDE = "wide"


LAYOUT_COLUMNS: dict[Layout, str] = {
    Layout.DKT_LINES: "learner=sequence,skill=skill,correct=correct,order=position",
    Layout.WIDE: "learner=row,item=item,correct=correct,order=position",
}
"""The column map each non-long layout starts from; a given map's roles replace these."""

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


def parse_columns(spec: str, defaults: str | None = None) -> ColumnMap:
    """Parse ``role=column,role=column,...`` into a :class:`ColumnMap`.

    Args:
        spec: comma-separated ``role=column`` pairs. Column names may contain spaces and
            parentheses but not commas or ``=``.
        defaults: a map in the same form whose roles apply where ``spec`` gives none (a
            layout's default map, :data:`LAYOUT_COLUMNS`).

    Returns:
        The column map.

    Raises:
        InvalidInput: an unknown or repeated role, a pair without ``=``, or a required role
            missing (``learner``, ``correct``, and ``skill`` or ``item``); every problem is listed.
    """
    problems: list[Problem] = []
    found = _parse_pairs(spec, problems)
    if defaults is not None:
        base = _parse_pairs(defaults, problems)
        found = {**base, **found}
    for role in ("learner", "correct"):
        if role not in found:
            problems.append(Problem("columns", f"the '{role}' role is required"))
    if "skill" not in found and "item" not in found:
        problems.append(Problem("columns", "a 'skill' or an 'item' column is required"))
    if problems:
        raise InvalidInput("bad column mapping", problems)
    return ColumnMap(**found)


def _parse_pairs(spec: str, problems: list[Problem]) -> dict[str, str]:
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
    return found


def parse_layout(name: str | Layout) -> Layout:
    """The :class:`Layout` called ``name``.

    Raises:
        InvalidInput: an unknown layout name.
    """
    try:
        return Layout(name)
    except ValueError:
        known = ", ".join(v.value for v in Layout)
        raise InvalidInput(
            "unknown layout", [Problem("layout", f"'{name}' is not one of {known}")]
        ) from None


def column_map(columns: ColumnMap | str | None, layout: Layout | str = Layout.LONG) -> ColumnMap:
    """The column map for ``layout``: ``columns`` completed by the layout's default map.

    Raises:
        InvalidInput: a bad map, an unknown layout, or no map for the ``long`` layout.
    """
    kind = parse_layout(layout)
    if isinstance(columns, ColumnMap):
        return columns
    if kind is Layout.LONG:
        if columns is None:
            raise InvalidInput(
                "missing column mapping",
                [Problem("columns", "the long layout needs a column mapping")],
            )
        return parse_columns(columns)
    return parse_columns(columns or "", LAYOUT_COLUMNS[kind])


def expand_paths(path: Path | str) -> list[Path]:
    """The files a path names: itself, a folder's data files, or a glob's matches (sorted).

    A folder contributes the files whose names end with one of :data:`DATA_SUFFIXES`.

    Raises:
        InvalidInput: a folder or glob with no such file.
    """
    text = str(path)
    if any(c in text for c in "*?["):
        found = sorted(Path(m) for m in glob.glob(text) if Path(m).is_file())
        where = "no file matches the pattern"
    elif Path(text).is_dir():
        found = sorted(
            f
            for f in Path(text).iterdir()
            if f.is_file() and not f.name.startswith(".") and f.name.endswith(DATA_SUFFIXES)
        )
        where = f"the folder has no data file (names ending {', '.join(DATA_SUFFIXES)})"
    else:
        return [Path(text)]
    if not found:
        raise InvalidInput(f"cannot read {text}", [Problem(Path(text).name, where)])
    return found


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


def _check_readable(path: Path) -> None:
    where = path.name
    if not path.is_file():
        raise InvalidInput(f"cannot read {path}", [Problem(where, "no such file")])
    if path.stat().st_size == 0:
        raise InvalidInput(f"cannot read {path}", [Problem(where, "the file is empty")])


def read_frame(path: Path, columns: ColumnMap, max_rows: int | None = None) -> pd.DataFrame:
    """Read the mapped columns of one long file; cells stay strings, empty cells become NaN."""
    where = path.name
    _check_readable(path)
    wanted = columns.source_columns()
    if _is_parquet(path):
        import pyarrow.parquet as pq

        available = list(pq.read_schema(path).names)
        wanted_here = _without_source(wanted, available)
        check_columns(where, wanted_here, available)
        frame = pq.read_table(path, columns=wanted_here).to_pandas()
        if max_rows is not None:
            frame = frame.iloc[:max_rows]
    else:
        header = _open_text_head(path)
        if not header.strip():
            raise InvalidInput(f"cannot read {path}", [Problem(where, "the file is empty")])
        sep = _sniff_delimiter(header)
        compression = "gzip" if _is_gzip(path) else None
        available = list(pd.read_csv(path, sep=sep, nrows=0, compression=compression).columns)
        wanted_here = _without_source(wanted, available)
        check_columns(where, wanted_here, available)
        frame = pd.read_csv(
            path,
            sep=sep,
            usecols=wanted_here,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            compression=compression,
            low_memory=False,
            nrows=max_rows,
        )
    if len(frame) == 0:
        raise InvalidInput(f"cannot read {path}", [Problem(where, "the file has no data rows")])
    if SOURCE_COLUMN not in frame.columns:
        frame[SOURCE_COLUMN] = path.name
    return frame


def _without_source(wanted: list[str], available: list[str]) -> list[str]:
    """The wanted file columns, less ``source`` when the file has no such column (it is added)."""
    return [c for c in wanted if c != SOURCE_COLUMN or c in available]


def _open_text(path: Path) -> Any:
    opener: Any = gzip.open if _is_gzip(path) else open
    return opener(path, "rt", encoding="utf-8", errors="replace", newline="")


def _split_values(line: str) -> list[str]:
    """Comma-separated values of a DKT line; a trailing comma (DKT's own files) is ignored."""
    values = [v.strip() for v in line.split(",")]
    while values and values[-1] == "":
        values.pop()
    return values


def read_dkt_lines(path: Path, learner_prefix: str, max_rows: int | None = None) -> pd.DataFrame:
    """Read a DKT file: per sequence, a length line, an optional skill line and a 0/1 line.

    Whether the skill line is there is decided from the whole file: three lines per sequence
    if that parses, else two (then every response has the skill ``<none>``). Blank lines are
    skipped; error messages count lines in the file from 1.
    """
    _check_readable(path)
    with _open_text(path) as handle:
        lines = [(n, text.strip()) for n, text in enumerate(handle, start=1) if text.strip()]
    if not lines:
        raise InvalidInput(f"cannot read {path}", [Problem(path.name, "the file is empty")])
    try:
        return _parse_dkt(path.name, lines, 3, learner_prefix, max_rows)
    except InvalidInput as three_lines:
        try:
            return _parse_dkt(path.name, lines, 2, learner_prefix, max_rows)
        except InvalidInput:
            raise three_lines from None


def _parse_dkt(
    name: str,
    lines: list[tuple[int, str]],
    per_sequence: int,
    learner_prefix: str,
    max_rows: int | None,
) -> pd.DataFrame:
    def bad(role: str, line_no: int, why: str) -> InvalidInput:
        return InvalidInput(
            f"bad {per_sequence}-line DKT sequence",
            [Problem(f"{name}:{role}", f"line {line_no}: {why}")],
        )

    sequences: list[int] = []
    positions: list[np.ndarray[Any, Any]] = []
    skills: list[str] = []
    correct: list[str] = []
    if len(lines) % per_sequence:
        line_no = lines[-(len(lines) % per_sequence)][0]
        raise bad("length", line_no, f"an incomplete sequence ({per_sequence} lines each)")
    for k in range(0, len(lines), per_sequence):
        if max_rows is not None and k // per_sequence >= max_rows:
            break
        (len_no, len_text), *rest = lines[k : k + per_sequence]
        if not len_text.isdigit():
            raise bad("length", len_no, f"{len_text[:40]!r} is not a sequence length")
        n = int(len_text)
        values = [_split_values(text) for _, text in rest]
        for role, (line_no, _), cells in zip(
            ("skill", "correct")[-len(rest) :], rest, values, strict=True
        ):
            if len(cells) != n:
                raise bad(role, line_no, f"{len(cells)} values where the length line says {n}")
        answers = values[-1]
        wrong = [v for v in answers if v not in ("0", "1")]
        if wrong:
            raise bad("correct", rest[-1][0], f"{wrong[0][:40]!r} is not 0/1")
        if per_sequence == 3 and any(v == "" for v in values[0]):
            raise bad("skill", rest[0][0], "an empty skill id")
        sequences.append(n)
        positions.append(np.arange(n))
        skills.extend(values[0] if per_sequence == 3 else [NO_SKILL] * n)
        correct.extend(answers)
    if not correct:
        raise InvalidInput(f"cannot read {name}", [Problem(name, "the file has no responses")])
    index = np.repeat(np.arange(1, len(sequences) + 1), sequences)
    return pd.DataFrame(
        {
            "sequence": pd.Series(index.astype(str), dtype=object).radd(learner_prefix),
            "position": np.concatenate(positions),
            "skill": skills,
            "correct": correct,
            SOURCE_COLUMN: name,
        }
    )


def _looks_like_data(cells: list[str]) -> bool:
    return all(c.strip().lower() in ("", "0", "1", "0.0", "1.0", "true", "false") for c in cells)


def read_wide(
    path: Path, columns: ColumnMap, learner_prefix: str, max_rows: int | None = None
) -> pd.DataFrame:
    """Read a wide file (a row per learner, a column per item) as one row per answered cell.

    The file has a header unless every cell of its first line is 0/1/blank; without one, the
    items are named by their 1-based column numbers. Columns the map names are id columns
    (e.g. ``learner=person``); all the others are items, in file order.
    """
    where = path.name
    _check_readable(path)
    header_line = _open_text_head(path)
    sep = _sniff_delimiter(header_line)
    has_header = not _looks_like_data(header_line.rstrip("\r\n").split(sep))
    frame = pd.read_csv(
        path,
        sep=sep,
        header=0 if has_header else None,
        dtype=str,
        keep_default_na=False,
        na_values=[""],
        compression="gzip" if _is_gzip(path) else None,
        nrows=max_rows,
    )
    frame.columns = [str(c) if has_header else str(int(c) + 1) for c in frame.columns]
    if len(frame) == 0:
        raise InvalidInput(f"cannot read {path}", [Problem(where, "the file has no data rows")])
    named = set(columns.source_columns())
    id_columns = [c for c in frame.columns if c in named]
    item_columns = [c for c in frame.columns if c not in named]
    if not item_columns:
        raise InvalidInput(
            f"cannot read {path}", [Problem(where, "every column is named by the map: no items")]
        )
    for column in id_columns:
        empty = frame[column].isna().to_numpy(dtype=bool)
        if empty.any():
            row = first_bad(empty)
            raise bad_cell(where, column, row, "", "is empty (an id column of a wide file)")
    matrix = np.empty((len(frame), len(item_columns)), dtype=np.float64)
    for j, column in enumerate(item_columns):
        cells = frame[column]
        answered = cells.notna().to_numpy(dtype=bool)
        matrix[:, j] = np.nan
        if answered.any():
            parsed = parse_correct(cells[answered], where, column, rows=np.flatnonzero(answered))
            matrix[answered, j] = parsed
    rows, cols = np.nonzero(~np.isnan(matrix))  # row-major: each learner's items in file order
    if rows.size == 0:
        raise InvalidInput(f"cannot read {path}", [Problem(where, "no cell is answered")])
    out = pd.DataFrame(
        {
            "row": pd.Series((rows + 1).astype(str), dtype=object).radd(learner_prefix),
            "item": np.asarray(item_columns, dtype=object)[cols],
            "position": cols,
            "correct": matrix[rows, cols].astype(np.int8),
        }
    )
    for column in id_columns:
        out[column] = frame[column].to_numpy(dtype=object)[rows]
    if SOURCE_COLUMN not in out.columns:
        out[SOURCE_COLUMN] = where
    return out


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as raw:
        return raw.read(2) == b"\x1f\x8b"


def check_columns(where: str, wanted: list[str], available: list[str]) -> None:
    missing = [c for c in wanted if c not in available]
    if missing:
        shown = ", ".join(repr(c) for c in available[:40])
        raise InvalidInput(
            "the column mapping names columns the file does not have",
            [Problem(f"{where}:{c}", f"no such column; the file has {shown}") for c in missing],
        )


def first_bad(mask: np.ndarray[Any, np.dtype[np.bool_]]) -> int:
    return int(np.flatnonzero(mask)[0])


def bad_cell(where: str, column: str, row: int, value: object, why: str) -> InvalidInput:
    return InvalidInput(
        f"bad value in column '{column}'",
        [Problem(f"{where}:{column}", f"row {row + 1}: {value!r} {why}")],
    )


def parse_correct(
    series: pd.Series,
    where: str,
    column: str,
    rows: np.ndarray[Any, Any] | None = None,
) -> np.ndarray[Any, Any]:
    """0/1 codes of ``series``; ``rows`` maps its positions to the file's data rows (0-based)."""
    numeric: FloatArray = pd.to_numeric(series, errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    words = series.astype("string").str.strip().str.lower()
    numeric = np.where(words.isin(_TRUE_WORDS).to_numpy(dtype=bool), 1.0, numeric)
    numeric = np.where(words.isin(_FALSE_WORDS).to_numpy(dtype=bool), 0.0, numeric)
    bad = ~np.isin(numeric, (0.0, 1.0))
    if bad.any():
        at = first_bad(bad)
        row = at if rows is None else int(rows[at])
        raise bad_cell(where, column, row, series.iloc[at], "is not 0/1 or true/false")
    return numeric.astype(np.int8)
