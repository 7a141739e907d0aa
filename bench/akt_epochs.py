"""How many epochs AKT should train, chosen on a validation split of the training learners only.

Standalone script, not a test. Reproduce (the figures in bench/results/models.md's AKT notes)::

    .venv/bin/python bench/akt_epochs.py statics2011_gervet --max-epochs 35 --patience 5
    .venv/bin/python bench/akt_epochs.py assist2015_akt --max-epochs 15 --patience 3

It takes a dataset of ``bench/datasets.toml`` with the split ``bench/models.py`` uses, holds out
20 % of the training learners (seed 0) for validation, fits AKT (CPU; d_model 64 and 4 heads
as most rows of models.md unless ``--hidden`` and ``--heads`` say otherwise) on the rest and
scores the validation learners after every epoch (``bench/deep_gpu.py``'s ``EarlyStop``),
printing one JSON line per epoch and then the best epoch. The test learners are never read. Then
``bench/models.py ... --param akt:epochs=BEST`` fits on all the training learners and scores
the test ones once.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from deep_gpu import EarlyStop
from models import _default_data_dir, load_datasets, split_dataset

from zoped.engine.registry import make_model
from zoped.engine.split import split_by_learner

DATASETS = Path(__file__).parent / "datasets.toml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", help="a dataset of bench/datasets.toml")
    parser.add_argument("--max-epochs", type=int, default=15)
    parser.add_argument("--patience", type=int, default=3, help="epochs without gain")
    parser.add_argument("--hidden", type=int, default=64, help="d_model (AKT's paper: 256)")
    parser.add_argument("--heads", type=int, default=4, help="attention heads (AKT's paper: 8)")
    parser.add_argument("--data-dir", type=Path, default=_default_data_dir())
    args = parser.parse_args()
    spec = load_datasets(DATASETS)[args.dataset]
    train, _test = split_dataset(args.data_dir, spec)
    fit_part, valid = split_by_learner(train, 0.2, np.random.default_rng(0))
    print(json.dumps({"dataset": args.dataset, "fit_rows": len(fit_part),
                      "valid_rows": len(valid)}), flush=True)  # fmt: skip
    settings = {"hidden": str(args.hidden), "heads": str(args.heads),
                "epochs": str(args.max_epochs), "device": "cpu"}  # fmt: skip
    model = make_model("akt", settings, seed=0)
    stop = EarlyStop(valid, args.patience, {"dataset": args.dataset})
    model.fit(fit_part, after_epoch=stop)
    best = {"best_epoch": stop.best_epoch, "best_valid_auc": round(stop.best_auc, 4)}
    print(json.dumps({"dataset": args.dataset, "hidden": args.hidden, "heads": args.heads, **best,
                      "epochs_run": stop.epochs}), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
