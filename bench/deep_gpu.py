"""Train DKT and SAKT on assist2009_gervet_lpp (Gervet et al. 80/20 split); print AUC, time, device.

Usage (GPU machine, full data)::

    python bench/deep_gpu.py --data ../shared/data --epochs 10
    python bench/deep_gpu.py --data ../shared/data --learners 300 --epochs 2 --device cpu  # smoke

Rows are one skill id each (the dataset's combined-skill ids), in response order; the split is
the published one (train file / test file). Published AUCs on this split: DKT 0.75, SAKT 0.75
(Gervet et al. 2020, see ../shared/data/BASELINES.md). Writes one JSON line per model to stdout.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from zoped.engine.base import InteractionLog
from zoped.engine.deep.dkt import DKT
from zoped.engine.deep.sakt import SAKT


def build_log(df: pd.DataFrame, n_skills: int) -> InteractionLog:
    """An InteractionLog from the tab-separated Gervet columns (until zoped.engine.logs lands)."""
    df = df.reset_index(drop=True)  # rows are already grouped by user, in response order
    users, learner = np.unique(df.user_id.to_numpy(), return_inverse=True)
    # Keep the file's order within each learner: a stable sort by learner code only.
    order = np.argsort(learner, kind="stable")
    n = len(df)
    return InteractionLog(
        learner=learner[order].astype(np.int64),
        item=df.item_id.to_numpy()[order].astype(np.int64),
        skill_ptr=np.arange(n + 1, dtype=np.int64),
        skill_idx=df.skill_id.to_numpy()[order].astype(np.int64),
        correct=df.correct.to_numpy()[order].astype(np.int8),
        order=np.arange(n, dtype=np.float64),
        learner_ids=users,
        skill_ids=np.arange(n_skills),
        item_ids=np.arange(int(df.item_id.max()) + 1),
    )


def auc(y: np.ndarray, p: np.ndarray) -> float:
    ranks = rankdata(p)
    n1 = float(y.sum())
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * (len(y) - n1)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--learners", type=int, default=0, help="train on the first N (0 = all)")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--window", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--models", default="dkt,sakt")
    args = parser.parse_args()

    folder = args.data / "assist2009_gervet_lpp"
    train_df = pd.read_csv(folder / "preprocessed_data_train.csv", sep="\t")
    test_df = pd.read_csv(folder / "preprocessed_data_test.csv", sep="\t")
    if args.learners:
        keep = train_df.user_id.unique()[: args.learners]
        train_df = train_df[train_df.user_id.isin(keep)]
        keep = test_df.user_id.unique()[: max(args.learners // 4, 1)]
        test_df = test_df[test_df.user_id.isin(keep)]
    n_skills = int(max(train_df.skill_id.max(), test_df.skill_id.max())) + 1
    train, test = build_log(train_df, n_skills), build_log(test_df, n_skills)
    y = test.correct.astype(np.int64)
    for name in args.models.split(","):
        cls = {"dkt": DKT, "sakt": SAKT}[name]
        model = cls(
            hidden=args.hidden,
            window=args.window,
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=1e-3,
            seed=0,
            device=args.device,
        )
        t0 = time.perf_counter()
        model.fit(train)
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        p = model.predict_proba(test)
        predict_s = time.perf_counter() - t0
        result = {
            "model": name,
            "device": model.device,
            "train_rows": len(train),
            "test_rows": len(test),
            "epochs": args.epochs,
            "auc": round(auc(y, p), 4),
            "rmse": round(float(np.sqrt(np.mean((p - y) ** 2))), 4),
            "fit_s": round(fit_s, 1),
            "predict_s": round(predict_s, 1),
            "train_loss": [round(x, 4) for x in model.fit_summary["train_loss"]],
        }
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
