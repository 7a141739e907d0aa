"""Splits by learner: random with a seed, from a split file, never mixing a learner."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from zoped.engine.logs import load_log
from zoped.engine.split import (
    LearnerSplit,
    parse_split,
    read_split_file,
    split_by_ids,
    split_by_learner,
)
from zoped.errors import InvalidInput


@pytest.fixture(scope="module")
def log(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("split")
    rows = ["u,s,c"]
    for learner in range(10):
        for k in range(learner + 1):
            rows.append(f"L{learner},s{k % 3},{(learner + k) % 2}")
    path = tmp_path / "log.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return load_log(path, "learner=u,skill=s,correct=c")


def learners(part):
    return {part.learner_ids[c] for c in np.unique(part.learner)}


def test_parse_split():
    assert parse_split("learner:0.2") == LearnerSplit(0.2)
    for bad in ("learner:0", "learner:1", "learner:x", "time:0.2", "learner"):
        with pytest.raises(InvalidInput):
            parse_split(bad)


@given(st.floats(0.01, 0.99), st.integers(0, 2**32 - 1))
def test_random_split_partitions_learners(log, fraction, seed):
    train, test = split_by_learner(log, fraction, np.random.default_rng(seed))
    assert len(train) + len(test) == len(log)
    assert learners(train).isdisjoint(learners(test))
    assert learners(train) | learners(test) == set(log.learner_ids)
    assert len(learners(test)) == min(max(round(fraction * 10), 1), 9)
    train.validate()
    test.validate()


def test_same_seed_same_split(log):
    a = split_by_learner(log, 0.3, np.random.default_rng(7))[1]
    b = split_by_learner(log, 0.3, np.random.default_rng(7))[1]
    c = split_by_learner(log, 0.3, np.random.default_rng(8))[1]
    assert learners(a) == learners(b)
    assert len(learners(a)) == 3
    assert learners(a) != learners(c)  # another seed draws other test learners


def test_split_file_one_id_per_line(log, tmp_path):
    path = tmp_path / "test.txt"
    path.write_text("# test learners\nL1\n\nL4\nL99\n", encoding="utf-8")
    ids = read_split_file(path)
    assert ids == ["L1", "L4", "L99"]
    _train, test = split_by_ids(log, ids)
    assert learners(test) == {"L1", "L4"}  # L99 is not in the data and is ignored
    assert len(test) == 2 + 5


def test_split_file_as_csv_with_learner_column(tmp_path):
    path = tmp_path / "split.csv"
    path.write_text("fold,user_id\n1,L2\n1,L3\n", encoding="utf-8")
    assert read_split_file(path, learner_column="user_id") == ["L2", "L3"]
    path.write_text("fold\tlearner\n1,x\t L5\n", encoding="utf-8")
    assert read_split_file(path) == ["L5"]
    path.write_text("fold,who\n1,L2\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="no learner column"):
        read_split_file(path, learner_column="user_id")


def test_split_file_errors(log, tmp_path):
    with pytest.raises(InvalidInput, match="no learner of the split file"):
        split_by_ids(log, ["nobody"])
    with pytest.raises(InvalidInput, match="leaves no training data"):
        split_by_ids(log, [f"L{k}" for k in range(10)])
    empty = tmp_path / "empty.txt"
    empty.write_text("\n# nothing\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="lists no learner"):
        read_split_file(empty)
    with pytest.raises(InvalidInput, match="cannot read"):
        read_split_file(tmp_path / "missing.txt")
