"""Train/test splits of an interaction log, always by learner (a learner is in one side only).

Three protocols (``docs/engine.md``):

- ``learner:<fraction>``: that fraction of the learners, drawn with a seeded generator, is the
  test set (``learner:0.2`` -> 80/20).
- a split file listing the test learners (one id per line, or a CSV/TSV with a ``learner``
  column), to reproduce a published split;
- a separate test file (see :func:`zoped.engine.logs.load_logs`), for datasets shipped as
  train and test files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zoped.engine.base import InteractionLog
from zoped.errors import InvalidInput, Problem


@dataclass(frozen=True)
class LearnerSplit:
    """A random split by learner: ``test_fraction`` of the learners go to the test set."""

    test_fraction: float


def parse_split(spec: str) -> LearnerSplit:
    """Parse ``learner:<fraction>`` (fraction strictly between 0 and 1).

    Raises:
        InvalidInput: another kind of split, or a fraction out of range.
    """
    kind, _, value = spec.partition(":")
    if kind.strip() != "learner":
        raise InvalidInput(
            "unknown split", [Problem("split", f"'{spec}': expected learner:<fraction>")]
        )
    try:
        fraction = float(value)
    except ValueError:
        fraction = float("nan")
    if not 0 < fraction < 1:
        raise InvalidInput(
            "bad split fraction",
            [Problem("split", f"'{value}' is not a fraction strictly between 0 and 1")],
        )
    return LearnerSplit(fraction)


def _split_codes(
    log: InteractionLog, test_codes: np.ndarray
) -> tuple[InteractionLog, InteractionLog]:
    is_test = np.isin(log.learner, test_codes)
    train = log.take_rows(np.flatnonzero(~is_test))
    test = log.take_rows(np.flatnonzero(is_test))
    return train, test


def split_by_learner(
    log: InteractionLog, test_fraction: float, rng: np.random.Generator
) -> tuple[InteractionLog, InteractionLog]:
    """Put a random ``test_fraction`` of the learners (with rows) in the test set.

    The number of test learners is ``round(test_fraction * n)``, at least 1 and at most
    ``n - 1``. The draw depends only on ``rng`` and the learners present, so the same seed on
    the same file gives the same split.

    Args:
        log: the whole log.
        test_fraction: share of learners in the test set, in (0, 1).
        rng: the random generator (e.g. ``np.random.default_rng(seed)``).

    Returns:
        ``(train, test)``, sharing the log's vocabularies.

    Raises:
        InvalidInput: fewer than two learners have rows.
    """
    present = np.unique(log.learner)
    if present.size < 2:
        raise InvalidInput(
            "cannot split by learner", [Problem("data", "fewer than two learners have rows")]
        )
    n_test = int(min(max(round(test_fraction * present.size), 1), present.size - 1))
    test_codes = rng.choice(present, size=n_test, replace=False)
    return _split_codes(log, test_codes)


def read_split_file(path: Path, learner_column: str | None = None) -> list[str]:
    """Read the test learners' ids from a split file.

    A file whose first line holds a delimiter (comma or tab) is a table: its ``learner``
    column is used (or ``learner_column``, the data's learner column name). Otherwise it is one
    id per line. Blank lines and lines starting with ``#`` are ignored.

    Raises:
        InvalidInput: the file is missing or empty, or a table has no learner column.
    """
    if not path.is_file():
        raise InvalidInput("cannot read the split file", [Problem(str(path.name), "no such file")])
    lines = [
        line.strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        raise InvalidInput("the split file lists no learner", [Problem(path.name, "empty")])
    sep = "\t" if "\t" in lines[0] else "," if "," in lines[0] else None
    if sep is None:
        return lines
    header = [h.strip() for h in lines[0].split(sep)]
    wanted = [c for c in ("learner", learner_column) if c]
    found = next((c for c in wanted if c in header), None)
    if found is None:
        raise InvalidInput(
            "the split file has no learner column",
            [Problem(path.name, f"expected a column named {' or '.join(wanted)}; has {header}")],
        )
    k = header.index(found)
    return [row.split(sep)[k].strip() for row in lines[1:]]


def split_by_ids(log: InteractionLog, test_ids: list[str]) -> tuple[InteractionLog, InteractionLog]:
    """Put the listed learners in the test set and every other learner in the training set.

    Ids are compared as text. Ids that the log does not hold are ignored (published split
    files may list learners that preprocessing removed), but at least one must match and at
    least one learner must remain for training.

    Raises:
        InvalidInput: no listed id is in the log, or every learner is listed.
    """
    names = np.asarray([str(x) for x in log.learner_ids], dtype=object)
    test_codes = np.flatnonzero(np.isin(names, np.asarray(test_ids, dtype=object)))
    test_codes = test_codes[np.isin(test_codes, log.learner)]
    if test_codes.size == 0:
        example = ", ".join(test_ids[:3])
        raise InvalidInput(
            "no learner of the split file is in the data",
            [Problem("split-file", f"ids such as {example} match no learner id of the data")],
        )
    train, test = _split_codes(log, test_codes)
    if len(train) == 0:
        raise InvalidInput(
            "the split file leaves no training data",
            [Problem("split-file", "it lists every learner of the data")],
        )
    return train, test
