"""Measure the Elo / IRT / logistic models on the Gervet et al. (2020) 80/20 splits.

Usage: ``python bench/ability_models.py [DATA_DIR] [model ...]`` (DATA_DIR defaults to
``$ZOPED_DATA_DIR`` or ``../shared/data``). Prints one line per (dataset, model): AUC, RMSE,
seconds. The skills of each row come from the dataset's Q-matrix, as in Gervet et al.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.stats import rankdata

from zoped.engine.base import InteractionLog, LearnerModel
from zoped.engine.elo import Elo
from zoped.engine.irt import IRT1PL, IRT2PL
from zoped.engine.logistic import DAS3H, BestLR

DATASETS = {
    "assist2009": "assist2009_gervet_lpp",
    "statics2011": "statics2011/gervet_lpp",
}


def build_log(frame: pd.DataFrame, q: sp.csr_matrix, n_items: int) -> InteractionLog:
    """An InteractionLog with skills from the Q-matrix; learner codes local to the frame."""
    users, learner = np.unique(frame["user_id"].to_numpy(), return_inverse=True)
    # A stable sort by learner keeps each learner's response order.
    order = np.argsort(learner, kind="stable")
    learner = learner[order].astype(np.int64)
    item = frame["item_id"].to_numpy()[order].astype(np.int64)
    rows = q[item]
    return InteractionLog(
        learner=learner,
        item=item,
        skill_ptr=rows.indptr.astype(np.int64),
        skill_idx=rows.indices.astype(np.int64),
        correct=frame["correct"].to_numpy()[order].astype(np.int8),
        order=np.arange(len(frame), dtype=np.float64),
        learner_ids=users,
        skill_ids=np.arange(q.shape[1]),
        item_ids=np.arange(n_items),
    )


def auc(y: np.ndarray, p: np.ndarray) -> float:
    ranks = rankdata(p)
    n1 = float(y.sum())
    n0 = float(len(y) - n1)
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


MODELS: dict[str, Callable[[], LearnerModel]] = {
    "elo": lambda: Elo(),
    "elo-skill": lambda: Elo(per_skill=True),
    "irt": lambda: IRT1PL(),
    "irt-skill": lambda: IRT1PL(per_skill=True),
    "irt2pl": lambda: IRT2PL(),
    "lr": lambda: BestLR(),
    "lr-free": lambda: BestLR(monotone=False),
    "lr+": lambda: BestLR(item_counts=True, window_attempts=(5.0, 20.0)),
    "das3h": lambda: DAS3H(),
}


def main() -> None:
    root = Path(
        sys.argv[1]
        if len(sys.argv) > 1
        else os.environ.get(
            "ZOPED_DATA_DIR", Path(__file__).resolve().parents[2] / "shared" / "data"
        )
    )
    wanted = sys.argv[2:] or list(MODELS)
    for ds, folder in DATASETS.items():
        d = root / folder
        q = sp.load_npz(d / "q_mat.npz").tocsr()
        q.sort_indices()
        train = pd.read_csv(d / "preprocessed_data_train.csv", sep="\t")
        test = pd.read_csv(d / "preprocessed_data_test.csv", sep="\t")
        n_items = q.shape[0]
        tr, te = build_log(train, q, n_items), build_log(test, q, n_items)
        y = te.correct.astype(np.float64)
        for name in wanted:
            t0 = time.perf_counter()
            model = MODELS[name]().fit(tr)
            p = model.predict_proba(te)
            dt = time.perf_counter() - t0
            rmse = float(np.sqrt(np.mean((p - y) ** 2)))
            print(
                f"{ds:12s} {name:10s} AUC {auc(y, p):.4f}  RMSE {rmse:.4f}  {dt:6.1f}s", flush=True
            )


if __name__ == "__main__":
    main()
