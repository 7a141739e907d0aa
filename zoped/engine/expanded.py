"""Merge the rows of a log that are one multi-skill response stored once per skill.

Several public datasets store a response to an item with several skills as one row per skill
(ASSISTments 2009 in AKT's folds: 51,069 of its 325,637 rows repeat the row before them, same
learner, same item, same outcome). Evaluated row by row, each copy is "predicted" from a row
that already shows its answer: a label leak that pyKT (Liu et al. 2022) measured and removed
by scoring each question once. ``bench/results/models.md`` shows how much it is worth.

:func:`merge_expanded_rows` turns each run of copies back into one row carrying all their
skills, which is how zoped's own logs store such a response (a row's skills are a CSR list).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from zoped.engine.base import InteractionLog


def expanded_copies(log: InteractionLog) -> np.ndarray:
    """True for each row that repeats the row before it as a copy of one response.

    A copy has the same learner, the same item (the log must have items) and the same outcome
    as the row before it, and the same time stamp when the log has time stamps. Two answers
    to one item that differ are two attempts, never copies.
    """
    n = len(log)
    copy = np.zeros(n, dtype=bool)
    if n < 2:
        return copy
    copy[1:] = (
        (log.learner[1:] == log.learner[:-1])
        & (log.item[1:] >= 0)
        & (log.item[1:] == log.item[:-1])
        & (log.correct[1:] == log.correct[:-1])
    )
    if log.timestamp_s is not None:
        copy[1:] &= log.timestamp_s[1:] == log.timestamp_s[:-1]
    return copy


def merge_expanded_rows(log: InteractionLog) -> InteractionLog:
    """The log with each run of :func:`expanded_copies` merged into its first row.

    The merged row keeps the first row's order, time, duration and hints and carries the
    skills of the whole run, each once, in the order they first appear. Vocabularies are
    unchanged; ``meta["merged_copies"]`` says how many rows were merged away.
    """
    copy = expanded_copies(log)
    n_copies = int(copy.sum())
    if n_copies == 0:
        return log
    first = np.flatnonzero(~copy)
    group = np.cumsum(~copy) - 1  # the merged row each source row belongs to
    skill_group = np.repeat(group, log.n_skills_per_row)
    # One (merged row, skill) pair each, in order of first appearance: group codes never
    # decrease along skill_idx, so sorting the first occurrences keeps rows contiguous.
    pair = skill_group * max(log.n_skills, int(log.skill_idx.max(initial=-1)) + 1) + log.skill_idx
    _, first_seen = np.unique(pair, return_index=True)
    first_seen.sort()
    ptr = np.zeros(first.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(skill_group[first_seen], minlength=first.shape[0]), out=ptr[1:])
    return replace(
        log.take_rows(first),
        skill_ptr=ptr,
        skill_idx=log.skill_idx[first_seen].astype(np.int64),
        meta={**log.meta, "merged_copies": int(log.meta.get("merged_copies", 0)) + n_copies},
    )
