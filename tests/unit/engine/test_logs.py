"""Reading interaction logs: formats, column maps, multi-skill cells, sorting and errors."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from zoped.engine.logs import (
    LAYOUT_COLUMNS,
    NO_SKILL,
    ColumnMap,
    Layout,
    load_log,
    load_logs,
    parse_columns,
)
from zoped.errors import InvalidInput

SPEC = "learner=student,skill=kc,item=question,correct=ok,order=seq"


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def skills_of(log, row):
    return [log.skill_ids[k] for k in log.skill_idx[log.skill_ptr[row] : log.skill_ptr[row + 1]]]


def test_parse_columns_reads_every_role():
    cmap = parse_columns(
        "learner=user_id, skill=skill_id,item=problem_id,correct=correct,order=order_id,"
        "timestamp=ts,duration=ms,hints=hint_count"
    )
    assert cmap == ColumnMap(
        learner="user_id",
        correct="correct",
        skill="skill_id",
        item="problem_id",
        order="order_id",
        timestamp="ts",
        duration="ms",
        hints="hint_count",
    )
    assert parse_columns(cmap.spec()) == cmap


def test_parse_columns_keeps_spaces_and_parentheses_in_names():
    cmap = parse_columns("learner=Anon Student Id,skill=KC(Default),correct=Correct First Attempt")
    assert cmap.learner == "Anon Student Id"
    assert cmap.skill == "KC(Default)"


def test_parse_columns_lists_every_problem():
    with pytest.raises(InvalidInput) as info:
        parse_columns("student=a,learner=b,learner=c,oops")
    messages = " ".join(p.message for p in info.value.problems)
    assert "unknown role 'student'" in messages
    assert "given twice" in messages
    assert "not of the form" in messages
    assert "'correct' role is required" in messages
    assert "'skill' or an 'item'" in messages


def test_sorts_stably_by_learner_then_order(tmp_path):
    path = write(
        tmp_path / "log.csv",
        "student,kc,question,ok,seq\n"
        "b,s1,q1,1,2\n"
        "a,s1,q1,0,5\n"
        "b,s2,q2,0,1\n"
        "a,s2,q3,1,5\n"  # ties with the row above: file order is kept
        "a,s1,q2,1,1\n",
    )
    log = load_log(path, SPEC)
    assert list(log.learner_ids) == ["b", "a"]
    assert log.learner.tolist() == [0, 0, 1, 1, 1]
    assert log.order.tolist() == [1, 2, 1, 5, 5]
    assert log.correct.tolist() == [0, 1, 1, 0, 1]
    assert [log.item_ids[i] for i in log.item] == ["q2", "q1", "q2", "q1", "q3"]
    assert [skills_of(log, r) for r in range(5)] == [["s2"], ["s1"], ["s1"], ["s1"], ["s2"]]


def test_without_order_keeps_file_order_and_numbers_positions(tmp_path):
    path = write(tmp_path / "log.csv", "u,s,c\nx,1,1\ny,1,0\nx,2,0\nx,1,1\n")
    log = load_log(path, "learner=u,skill=s,correct=c")
    assert log.correct.tolist() == [1, 0, 1, 0]
    assert log.order.tolist() == [0, 1, 2, 0]
    assert log.item.tolist() == [-1, -1, -1, -1]


def test_reads_gzip_by_magic_bytes_tsv_and_parquet(tmp_path):
    text = "u\ts\tc\nx\t1\ttrue\ny\t2\tFALSE\n"
    plain = write(tmp_path / "a.tsv", text)
    zipped = tmp_path / "b.data"  # no .gz suffix: detected by its first bytes
    zipped.write_bytes(gzip.compress(text.encode()))
    parquet = tmp_path / "c.bin"
    pd.DataFrame({"u": ["x", "y"], "s": [1, 2], "c": [1.0, 0.0]}).to_parquet(parquet)
    for path in (plain, zipped, parquet):
        log = load_log(path, "learner=u,skill=s,correct=c")
        assert log.correct.tolist() == [1, 0], path
        assert len(log.skill_ids) == 2


def test_multi_skill_cells_become_csr_lists(tmp_path):
    path = write(
        tmp_path / "ct.tsv",
        "Anon Student Id\tKC(Default)\tok\ns\ta~~b\t1\ns\t\t0\ns\tb~~a~~a\t1\ns\t c \t0\n",
    )
    log = load_log(path, "learner=Anon Student Id,skill=KC(Default),correct=ok", skill_sep="~~")
    assert log.n_skills_per_row.tolist() == [2, 1, 2, 1]
    assert sorted(skills_of(log, 0)) == ["a", "b"]
    assert skills_of(log, 1) == [NO_SKILL]
    assert sorted(skills_of(log, 2)) == ["a", "b"]
    assert skills_of(log, 3) == ["c"]
    log.validate()


def test_empty_skill_cell_without_separator_is_the_none_skill(tmp_path):
    path = write(tmp_path / "log.csv", "u,s,c\nx,,1\nx,k,0\n")
    log = load_log(path, "learner=u,skill=s,correct=c")
    assert skills_of(log, 0) == [NO_SKILL]


def test_without_skill_column_each_item_is_its_skill(tmp_path):
    path = write(tmp_path / "log.csv", "u,i,c\nx,q1,1\nx,q2,0\nx,q1,1\n")
    log = load_log(path, "learner=u,item=i,correct=c")
    assert log.skill_idx.tolist() == log.item.tolist()
    assert list(log.skill_ids) == list(log.item_ids) == ["q1", "q2"]


def test_item_joins_several_columns(tmp_path):
    path = write(tmp_path / "log.csv", "u,p,st,c\nx,P1,S1,1\nx,P1,S2,0\nx,P2,S1,1\n")
    log = load_log(path, "learner=u,item=p+st,correct=c")
    assert log.n_items == 3
    assert log.item_ids[0] == "P1|S1"


def test_iso_and_numeric_timestamps_become_seconds(tmp_path):
    path = write(
        tmp_path / "log.csv",
        "u,s,c,t,d,h\nx,a,1,2006-10-26 09:51:58.5,3.5,\nx,a,0,2006-10-26T09:50:00Z,,2\n",
    )
    log = load_log(path, "learner=u,skill=s,correct=c,timestamp=t,duration=d,hints=h")
    # Sorted by timestamp when there is no order column.
    assert log.timestamp_s is not None
    assert log.timestamp_s.tolist() == [1161856200.0, 1161856318.5]
    assert log.correct.tolist() == [0, 1]
    assert log.hints is not None
    assert log.hints.tolist() == [2, -1]
    assert log.duration_s is not None
    assert np.isnan(log.duration_s[0])
    assert log.duration_s[1] == 3.5


def test_separate_files_share_vocabularies(tmp_path):
    train = write(tmp_path / "train.csv", "u,s,i,c\nx,a,q1,1\nx,b,q2,0\n")
    test = write(tmp_path / "test.csv", "u,s,i,c\ny,b,q3,1\ny,a,q1,0\n")
    tr, te = load_logs([train, test], "learner=u,skill=s,item=i,correct=c")
    assert list(tr.skill_ids) == list(te.skill_ids) == ["a", "b"]
    assert te.skill_idx.tolist() == [1, 0]
    assert te.item.tolist() == [2, 0]
    assert te.learner.tolist() == [1, 1]
    assert tr.meta["source"] == "train.csv"


@pytest.mark.parametrize(
    ("text", "spec", "where", "needle"),
    [
        ("u,s,c\nx,a,1\nx,a,2\n", "learner=u,skill=s,correct=c", "log.csv:c", "row 2: '2'"),
        ("u,s,c\nx,a,yes please\n", "learner=u,skill=s,correct=c", "log.csv:c", "row 1"),
        ("u,s,c\nx,a,1\n,a,0\n", "learner=u,skill=s,correct=c", "log.csv:u", "row 2"),
        (
            "u,s,c,t\nx,a,1,5\nx,a,0,yesterday\n",
            "learner=u,skill=s,correct=c,timestamp=t",
            "log.csv:t",
            "row 2: 'yesterday'",
        ),
        ("u,s,c\nx,a,1\n", "learner=user,skill=s,correct=c", "log.csv:user", "'u', 's', 'c'"),
        ("u,s,c\n", "learner=u,skill=s,correct=c", "log.csv", "no data rows"),
        ("", "learner=u,skill=s,correct=c", "log.csv", "empty"),
    ],
)
def test_errors_name_the_column_and_the_first_bad_row(tmp_path, text, spec, where, needle):
    path = write(tmp_path / "log.csv", text)
    with pytest.raises(InvalidInput) as info:
        load_log(path, spec)
    problem = info.value.problems[0]
    assert problem.location == where
    assert needle in problem.message


def test_missing_file_is_invalid_input(tmp_path):
    with pytest.raises(InvalidInput, match="cannot read"):
        load_log(tmp_path / "nope.csv", "learner=u,skill=s,correct=c")


def test_large_multi_skill_file_is_split_vectorised(tmp_path):
    # 100k rows with multi-skill cells: the split must be vectorised, not a loop per row.
    rng = np.random.default_rng(0)
    n = 100_000
    frame = pd.DataFrame(
        {
            "u": rng.integers(0, 2000, n),
            "s": np.char.add(
                rng.integers(0, 100, n).astype(str),
                np.where(rng.random(n) < 0.3, "~" + rng.integers(0, 100, n).astype(str), ""),
            ),
            "c": rng.integers(0, 2, n),
            "o": np.arange(n),
        }
    )
    path = tmp_path / "big.csv"
    frame.to_csv(path, index=False)
    log = load_log(path, "learner=u,skill=s,correct=c,order=o", skill_sep="~")
    assert len(log) == n
    assert 1.2 < log.n_skills_per_row.mean() < 1.35
    # Each row's skills are the cell's, in code order (tests never assert timings: see STYLE).
    first = [log.skill_ids[k] for k in log.skill_idx[log.skill_ptr[0] : log.skill_ptr[1]]]
    row0 = frame[frame["u"] == int(log.learner_ids[0])].iloc[0]
    assert sorted(first) == sorted(set(row0["s"].split("~")))


@pytest.mark.data
def test_reads_every_shared_dataset_with_only_a_column_map(shared_data):
    cases = [
        (
            "assist2009_skillbuilder_akt_pid/interactions_long.csv.gz",
            "learner=user_id,skill=skill_id,item=item_id,correct=correct,order=seq_idx",
            None,
            325_637,
            4_151,
        ),
        (
            "assist2009_gervet_lpp/preprocessed_data_test.csv",
            "learner=user_id,skill=skill_id,item=item_id,correct=correct",
            None,
            None,
            623,
        ),
        (
            "kddcup2010_algebra2005_ct_subset/ct.csv",
            "learner=Anon Student Id,skill=KC(Default),item=Problem Name+Step Name,"
            "correct=Correct First Attempt,order=Row,timestamp=First Transaction Time",
            "~~",
            18_220,
            11,
        ),
        (
            "assist2009_skillbuilder_raw_subset/as.csv",
            "learner=user_id,skill=skill_name,item=problem_id,correct=correct,order=order_id,"
            "hints=hint_count",
            None,
            10_791,
            902,
        ),
    ]
    for rel, spec, sep, rows, learners in cases:
        log = load_log(shared_data / rel, spec, skill_sep=sep)
        if rows is not None:
            assert len(log) == rows, rel
        assert log.n_learners == learners, rel
        assert 0.6 < log.correct.mean() < 0.8, rel


# --- layouts: dkt-lines, wide, and several files read as one log --------------------------


DKT_TEXT = "3\n7,7,9\n1,0,1\n\n2\n9,9,\n0,1,\n"


def test_dkt_lines_reads_sequences_as_learners(tmp_path):
    log = load_log(write(tmp_path / "seqs.csv", DKT_TEXT), None, layout="dkt-lines")
    assert list(log.learner_ids[log.learner]) == ["1", "1", "1", "2", "2"]
    assert [skills_of(log, r) for r in range(5)] == [["7"], ["7"], ["9"], ["9"], ["9"]]
    assert log.correct.tolist() == [1, 0, 1, 0, 1]
    assert log.order.tolist() == [0, 1, 2, 0, 1]
    assert log.meta["layout"] == "dkt-lines"
    assert log.item.tolist() == [-1] * 5


def test_dkt_lines_without_skill_line_has_the_none_skill(tmp_path):
    log = load_log(write(tmp_path / "two.txt", "2\n1,0\n1\n1\n"), None, layout=Layout.DKT_LINES)
    assert log.correct.tolist() == [1, 0, 1]
    assert list(log.skill_ids) == [NO_SKILL]
    assert log.n_learners == 2


def test_dkt_lines_map_can_rename_roles(tmp_path):
    # The given roles replace the layout's defaults: the skill line read as items.
    log = load_log(write(tmp_path / "s.csv", DKT_TEXT), "item=skill", layout="dkt-lines")
    assert list(log.item_ids) == ["7", "9"]
    assert list(log.skill_ids) == ["7", "9"]  # no skill role: each item is its skill


@pytest.mark.parametrize(
    ("text", "where", "needle"),
    [
        ("3\n7,7\n1,0,1\n", "bad.csv:skill", "line 2: 2 values where the length line says 3"),
        ("2\n7,7\n1,2\n", "bad.csv:correct", "line 3: '2' is not 0/1"),
        ("x\n7\n1\n", "bad.csv:length", "line 1: 'x' is not a sequence length"),
        ("1\n7\n1\n2\n7,7\n", "bad.csv:length", "line 4: an incomplete sequence"),
    ],
)
def test_dkt_lines_errors_name_file_role_and_line(tmp_path, text, where, needle):
    with pytest.raises(InvalidInput) as info:
        load_log(write(tmp_path / "bad.csv", text), None, layout="dkt-lines")
    problem = info.value.problems[0]
    assert problem.location == where
    assert needle in problem.message


def test_wide_with_header_and_learner_column(tmp_path):
    path = write(tmp_path / "w.csv", "person,q1,q2,q3\nann,1,,0\nbob,0,1,1\n")
    log = load_log(path, "learner=person", layout="wide")
    assert list(log.learner_ids[log.learner]) == ["ann", "ann", "bob", "bob", "bob"]
    assert list(log.item_ids[log.item]) == ["q1", "q3", "q1", "q2", "q3"]  # blank: not answered
    assert list(log.skill_ids) == ["q1", "q3", "q2"]  # each item its own skill
    assert log.correct.tolist() == [1, 0, 0, 1, 1]
    assert log.order.tolist() == [0, 2, 0, 1, 2]  # column order


def test_wide_without_header_numbers_rows_and_columns(tmp_path):
    log = load_log(write(tmp_path / "m.csv", "1,0,1\n0,0,1\n"), None, layout="wide")
    assert list(log.learner_ids) == ["1", "2"]
    assert list(log.item_ids) == ["1", "2", "3"]
    assert len(log) == 6
    assert LAYOUT_COLUMNS[Layout.WIDE].startswith("learner=row")


def test_wide_errors_name_file_column_and_row(tmp_path):
    path = write(tmp_path / "w.csv", "person,q1,q2\nann,1,0\nbob,1,x\n")
    with pytest.raises(InvalidInput) as info:
        load_log(path, "learner=person", layout="wide")
    problem = info.value.problems[0]
    assert problem.location == "w.csv:q2"
    assert problem.message.startswith("row 2: 'x'")


def test_wide_map_naming_a_missing_column_is_reported(tmp_path):
    path = write(tmp_path / "m.csv", "1,0\n0,1\n")
    with pytest.raises(InvalidInput, match="no such column"):
        load_log(path, "timestamp=when", layout="wide")


def test_folder_and_glob_read_into_one_log_with_source(tmp_path):
    folder = tmp_path / "sets"
    folder.mkdir()
    write(folder / "a.csv", "user,ok\nu1,1\nu2,0\n")
    write(folder / "b.csv", "user,ok\nu1,0\n")
    write(folder / "README.md", "not data\n")
    spec = "learner=user,skill=source,correct=ok"
    by_glob = load_log(str(folder / "*.csv"), spec)
    by_folder = load_log(folder, spec)
    for log in (by_glob, by_folder):
        assert list(log.skill_ids) == ["a.csv", "b.csv"]
        assert list(log.learner_ids[log.learner]) == ["u1", "u1", "u2"]
        assert [skills_of(log, r) for r in range(3)] == [["a.csv"], ["b.csv"], ["a.csv"]]
    with pytest.raises(InvalidInput, match="no file matches"):
        load_log(str(folder / "*.parquet"), spec)


def test_numbered_learners_are_per_file_when_several_files_are_read(tmp_path):
    write(tmp_path / "x.csv", "1,0\n")
    write(tmp_path / "y.csv", "0,1\n")
    log = load_log(str(tmp_path / "*.csv"), None, layout="wide")
    assert list(log.learner_ids) == ["x.csv:1", "y.csv:1"]
    train, test = load_logs(
        [tmp_path / "x.csv", tmp_path / "y.csv"], "item=source+item", layout="wide"
    )
    assert list(train.learner_ids[train.learner]) == ["x.csv:1"] * 2
    assert list(test.learner_ids[test.learner]) == ["y.csv:1"] * 2
    assert list(train.item_ids) == ["x.csv|1", "x.csv|2", "y.csv|1", "y.csv|2"]


def test_unknown_layout_and_missing_map(tmp_path):
    path = write(tmp_path / "m.csv", "1,0\n")
    with pytest.raises(InvalidInput, match="unknown layout"):
        load_log(path, None, layout="tall")
    with pytest.raises(InvalidInput, match="needs a column mapping"):
        load_log(path, None)


def test_max_rows_caps_records_per_file(tmp_path):
    path = write(tmp_path / "s.csv", DKT_TEXT)
    assert len(load_log(path, None, layout="dkt-lines", max_rows=1)) == 3
    wide = write(tmp_path / "w.csv", "1,0\n0,1\n1,1\n")
    assert load_log(wide, None, layout="wide", max_rows=2).n_learners == 2


@pytest.mark.data
def test_reads_a_real_file_of_each_layout(shared_data):
    dkt = load_log(
        shared_data / "assist2012_dktplus_test_split/A2012_skill_id_test.csv",
        None,
        layout="dkt-lines",
        max_rows=200,
    )
    assert dkt.n_learners == 200
    assert 0.5 < dkt.correct.mean() < 0.9
    wide = load_log(
        shared_data / "dkt_synthetic5/naive_c5_q50_s4000_v0.csv", None, layout="wide", max_rows=100
    )
    assert (len(wide), wide.n_learners, len(wide.item_ids)) == (5000, 100, 50)
    lsat = load_log(
        shared_data / "irt_classic_response_matrices/mirt_LSAT7_persons.csv",
        "learner=person",
        layout="wide",
    )
    assert (len(lsat), len(lsat.item_ids)) == (5000, 5)
    assert list(lsat.item_ids) == ["item1", "item2", "item3", "item4", "item5"]
    glops = load_log(
        shared_data / "assistments_glops_42problemsets/*.csv",
        "learner=user_id,skill=source,correct=correct",
        max_rows=20,
    )
    assert len(glops.skill_ids) == 42
    assert len(glops) == 42 * 20
