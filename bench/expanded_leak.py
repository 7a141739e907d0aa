"""How much a dataset's copies of multi-skill responses are worth to a row-level AUC.

Standalone script, not a test. Reproduce (the figures in bench/results/models.md's notes)::

    .venv/bin/python bench/expanded_leak.py assist2009_akt --models elo,irt,das3h
    .venv/bin/python bench/expanded_leak.py assist2009_akt --models akt \\
        --param akt:epochs=7 --param akt:device=cpu

It takes a dataset of ``bench/datasets.toml`` with the split ``bench/models.py`` uses, finds
the test rows that copy the row before them (``zoped.engine.expanded.expanded_copies``: same
learner, item and outcome: one response written once per skill), fits each model on the
training rows as they are, and prints one JSON line per model: the AUC on every test row (the
row-level protocol), on the first rows of each response only, on the copies only, and on every
row with each copy's prediction replaced by its twin's answer (0.999 or 0.001), i.e. what a
model that only learned to repeat the row before would add.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from models import _default_data_dir, load_datasets, split_dataset

from zoped.engine.expanded import expanded_copies
from zoped.engine.metrics import auc
from zoped.engine.registry import make_model, parse_params

DATASETS = Path(__file__).parent / "datasets.toml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", help="a dataset of bench/datasets.toml (row level)")
    parser.add_argument("--models", default="elo,irt", help="comma-separated model names")
    parser.add_argument("--param", action="append", default=[], help="model:key=value")
    parser.add_argument("--data-dir", type=Path, default=_default_data_dir())
    args = parser.parse_args()
    spec = load_datasets(DATASETS)[args.dataset]
    train, test = split_dataset(args.data_dir, spec)
    copy = expanded_copies(test)
    y = test.correct.astype(np.int64)
    twin = np.roll(y, 1)  # the row before (a copy is never a learner's first row)
    print(json.dumps({"dataset": args.dataset, "test_rows": len(test),
                      "copies": int(copy.sum()), "copies_agree_with_twin":
                      bool((y[copy] == twin[copy]).all())}), flush=True)  # fmt: skip
    for name in args.models.split(","):
        params = parse_params([p.split(":", 1)[1] for p in args.param if p.startswith(f"{name}:")])
        model = make_model(name, params, seed=0).fit(train)
        p = model.predict_proba(test)
        copied = np.where(copy, np.where(twin == 1, 0.999, 0.001), p)
        print(json.dumps({
            "model": name, "params": params,
            "auc_all_rows": round(auc(y, p), 4),
            "auc_first_rows": round(auc(y[~copy], p[~copy]), 4),
            "auc_copies": round(auc(y[copy], p[copy]), 4),
            "auc_copies_answered_by_twin": round(auc(y, copied), 4),
        }), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
