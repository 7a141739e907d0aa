"""Derive a small, real evaluation fixture from the shared learner datasets.

Takes ``n_learners`` learners (seeded draw) of the ASSISTments 2009-10 skill-builder data in
the AKT version (``assist2009_skillbuilder_akt_pid/interactions_long.csv.gz``) and writes, in
the output folder:

- ``assist2009_small.csv``: their first 30 rows each, columns ``user_id, seq_idx, skill_id,
  item_id, correct, akt_fold`` (read with the column map ``COLUMNS`` below);
- ``assist2009_small_test_learners.txt``: the chosen learners of AKT fold 1, one id per line
  (a split file for ``zoped eval --split-file``).

The data stay where they are; the fixture is written at test time into a temporary folder.

Usage::

    python scripts/make_fixtures.py --data-dir ../shared/data --out /tmp/fixtures
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

SOURCE = Path("assist2009_skillbuilder_akt_pid") / "interactions_long.csv.gz"
COLUMNS = "learner=user_id,skill=skill_id,item=item_id,correct=correct,order=seq_idx"


def make_fixture(
    data_dir: Path,
    out_dir: Path,
    n_learners: int = 200,
    seed: int = 0,
    min_rows: int = 5,
    max_rows: int = 30,
) -> dict[str, Path]:
    """Write the fixture files and return their paths by role (``data``, ``split_file``).

    Only learners with at least ``min_rows`` responses are drawn, so each has a sequence;
    each keeps their first ``max_rows`` responses, so the fixture stays a few thousand rows.
    """
    frame = pd.read_csv(data_dir / SOURCE, dtype={"user_id": str})
    sizes = frame.groupby("user_id", sort=False).size()
    eligible = sizes.index[sizes >= min_rows].to_numpy()
    rng = np.random.default_rng(seed)
    chosen = set(rng.choice(eligible, size=min(n_learners, eligible.size), replace=False))
    small = frame[frame["user_id"].isin(chosen)]
    small = small[small.groupby("user_id", sort=False).cumcount() < max_rows]
    out_dir.mkdir(parents=True, exist_ok=True)
    data_path = out_dir / "assist2009_small.csv"
    small.to_csv(data_path, index=False)
    test_ids = small.loc[small["akt_fold"] == 1, "user_id"].drop_duplicates()
    split_path = out_dir / "assist2009_small_test_learners.txt"
    split_path.write_text("\n".join(test_ids) + "\n", encoding="utf-8")
    return {"data": data_path, "split_file": split_path}


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--learners", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    paths = make_fixture(args.data_dir, args.out, args.learners, args.seed)
    for role, path in paths.items():
        print(f"{role}: {path}")


if __name__ == "__main__":
    main()
