"""Train DKT and SAKT on assist2009_gervet_lpp (Gervet et al. 80/20 split); print AUC, time, device.

Usage (GPU machine, full data)::

    python bench/deep_gpu.py --data ../shared/data --epochs 10
    python bench/deep_gpu.py --data ../shared/data --learners 300 --epochs 2 --device cpu  # smoke

Rows are one skill id each (the dataset's combined-skill ids), in response order; the split is
the published one (train file / test file). Published AUCs on this split: DKT 0.75, SAKT 0.75
(Gervet et al. 2020, see ../shared/data/BASELINES.md). Writes one JSON line per model to stdout.

AKT with the published protocol (``--protocol akt``): AKT's five folds of ASSISTments 2009 (with
problem ids: AKT-Rasch), ASSISTments 2015 and Statics 2011 (questions as concepts). Fold k
tests, fold k+1 (mod 5) validates (AKT's valid_k), the other folds and the training-only
students train; training stops when the validation AUC has not improved for ``--patience``
epochs and the test fold is scored with the best epoch's weights. One JSON line per fold, then
one with the mean and standard deviation over the folds::

    python bench/deep_gpu.py --protocol akt --datasets assist2009,assist2015,statics  # GPU
    python bench/deep_gpu.py --protocol akt --datasets assist2009 --folds 1 --hidden 64 \
        --epochs 3 --device cpu                                      # one fold, small, on a CPU
    python bench/deep_gpu.py --protocol akt --datasets assist2009 --merge-expanded  # question level

ASSISTments 2009's folds write a multi-skill response once per skill (51,069 copies); scored row
by row each copy is predicted from a row showing its answer (bench/expanded_leak.py measures
it). ``--merge-expanded`` scores each response once, as pyKT's question-level protocol does.

Defaults follow AKT's published configuration (d_model 256, 8 heads, dropout 0.05, l2 1e-5,
batch 24, sequences of 200), except the learning rate (1e-4 here, 1e-5 and up to 300 epochs in
AKT's code).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from zoped.engine.base import InteractionLog
from zoped.engine.deep.akt import AKT
from zoped.engine.deep.dkt import DKT
from zoped.engine.deep.sakt import SAKT
from zoped.engine.expanded import merge_expanded_rows
from zoped.engine.logs import column_map, load_log

AKT_DATASETS = {
    "assist2009": (
        "assist2009_skillbuilder_akt_pid/interactions_long.csv.gz",
        "learner=user_id,skill=skill_id,item=item_id,correct=correct,order=seq_idx",
        "AKT-Rasch 0.8346 ± 0.0036 (AKT paper, 5 folds, as quoted) [D]; AKT 0.7853 [P]",
    ),
    "assist2015": (
        "assist2015_akt/interactions_long.csv.gz",
        "learner=user_id,skill=skill_id,correct=correct,order=seq_idx",
        "AKT 0.7281 [P] (pyKT protocol)",
    ),
    "statics": (
        "statics2011/interactions_long.csv.gz",
        "learner=user_id,skill=item_id,correct=correct,order=seq_idx",
        "AKT 0.8309 [P] (pyKT protocol)",
    ),
}
"""name -> (path under the data folder, column map, published AKT figure)."""


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


def _dkt_lines(path: Path) -> list[tuple[str, str]]:
    """The (questions, answers) lines of each learner of a DKT-style three-line file."""
    lines = path.read_text().split()
    return [(lines[i + 1], lines[i + 2]) for i in range(0, len(lines) - 2, 3)]


def akt_folds(data: Path, name: str, log: InteractionLog) -> np.ndarray:
    """AKT's fold (1-5, 0 = training only) of each learner code of ``log``."""
    ids = [str(x) for x in log.learner_ids]
    if name == "statics":
        # Our long file numbers the learners of akt/statics.csv from 0; the fold files hold
        # the same sequences, so a learner's fold is found by its sequence.
        index = {
            seq: str(i) for i, seq in enumerate(_dkt_lines(data / "statics2011/akt/statics.csv"))
        }
        fold_of = {
            index[seq]: k
            for k in range(1, 6)
            for seq in _dkt_lines(data / f"statics2011/akt/statics_test{k}.csv")
        }
    else:
        frame = pd.read_csv(data / AKT_DATASETS[name][0], usecols=["user_id", "akt_fold"])
        frame = frame.drop_duplicates("user_id")
        fold_of = dict(zip(frame.user_id.astype(str), frame.akt_fold.astype(int), strict=True))
    return np.array([fold_of.get(i, 0) for i in ids], dtype=np.int64)


class EarlyStop:
    """After each epoch: score the validation log, keep the best weights, stop on no gain."""

    def __init__(self, valid: InteractionLog, patience: int, label: dict[str, object]) -> None:
        self.valid, self.patience, self.label = valid, patience, label
        self.best_auc, self.best_epoch = -1.0, 0
        self.best_state: dict[str, Any] | None = None
        self.started = time.perf_counter()
        self.epochs = 0

    def __call__(self, epoch: int, model: AKT) -> bool:
        score = auc(self.valid.correct.astype(np.int64), model.predict_proba(self.valid))
        self.epochs = epoch
        seconds = round(time.perf_counter() - self.started, 1)
        print(json.dumps({**self.label, "epoch": epoch, "valid_auc": round(score, 4),
                          "s": seconds}), flush=True)  # fmt: skip
        if score > self.best_auc:
            self.best_auc, self.best_epoch = score, epoch
            self.best_state = {k: v.detach().clone() for k, v in model.net.state_dict().items()}
        return epoch - self.best_epoch < self.patience


def run_akt(args: argparse.Namespace) -> None:
    """AKT on AKT's folds: early stopping on the validation fold, test AUC per fold and mean."""
    for name in args.datasets.split(","):
        path, columns, published = AKT_DATASETS[name]
        log = load_log(args.data / path, column_map(columns))
        if args.merge_expanded:  # question level: a response written once per skill, once
            log = merge_expanded_rows(log)
        folds = akt_folds(args.data, name, log)
        codes = np.arange(log.n_learners)
        aucs = []
        for k in [int(f) for f in args.folds.split(",")]:
            valid_k = k % 5 + 1
            test = log.take_learners(codes[folds == k])
            valid = log.take_learners(codes[folds == valid_k])
            train = log.take_learners(codes[(folds != k) & (folds != valid_k)])
            if args.learners:
                train = train.take_learners(np.unique(train.learner)[: args.learners])
            model = AKT(
                hidden=args.hidden,
                heads=args.heads,
                window=args.window,
                epochs=args.epochs,
                batch_size=args.batch_size,
                lr=args.lr,
                dropout=args.dropout,
                l2=args.l2,
                seed=args.seed,
                device=args.device,
            )
            stop = EarlyStop(valid, args.patience, {"dataset": name, "fold": k})
            model.fit(train, after_epoch=stop)
            fit_s = time.perf_counter() - stop.started
            model.net.load_state_dict(stop.best_state)
            y = test.correct.astype(np.int64)
            p = model.predict_proba(test)
            aucs.append(auc(y, p))
            result = {
                "dataset": name,
                "fold": k,
                "valid_fold": valid_k,
                "model": "akt",
                "device": model.device,
                "train_rows": len(train),
                "valid_rows": len(valid),
                "test_rows": len(test),
                "best_epoch": stop.best_epoch,
                "valid_auc": round(stop.best_auc, 4),
                "auc": round(aucs[-1], 4),
                "rmse": round(float(np.sqrt(np.mean((p - y) ** 2))), 4),
                "fit_s": round(fit_s, 1),
                "s_per_epoch": round(fit_s / max(stop.epochs, 1), 1),
                "options": model.config(),
            }
            print(json.dumps(result), flush=True)
        sd = round(float(np.std(aucs, ddof=1)), 4) if len(aucs) > 1 else None
        summary = {"dataset": name, "folds": args.folds, "model": "akt",
                   "auc_mean": round(float(np.mean(aucs)), 4), "auc_sd": sd,
                   "published": published}  # fmt: skip
        print(json.dumps(summary), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--protocol", choices=["gervet", "akt"], default="gervet")
    parser.add_argument("--datasets", default="assist2009,assist2015,statics",
                        help="akt protocol: of " + ",".join(AKT_DATASETS))  # fmt: skip
    parser.add_argument("--folds", default="1,2,3,4,5", help="akt protocol: test folds")
    parser.add_argument("--patience", type=int, default=10, help="akt: epochs without gain")
    parser.add_argument("--merge-expanded", action="store_true",
                        help="akt: score a multi-skill response once (question level)")  # fmt: skip
    parser.add_argument("--heads", type=int, default=8, help="akt: attention heads")
    parser.add_argument("--lr", type=float, default=None, help="default 1e-3 (akt: 1e-4)")
    parser.add_argument("--dropout", type=float, default=0.05, help="akt only")
    parser.add_argument("--l2", type=float, default=1e-5, help="akt: difficulty penalty")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--learners", type=int, default=0, help="train on the first N (0 = all)")
    parser.add_argument("--hidden", type=int, default=None)
    parser.add_argument("--window", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--models", default="dkt,sakt")
    args = parser.parse_args()
    # Defaults per protocol: AKT's published configuration, or the DKT/SAKT ones.
    defaults = {"akt": (300, 256, 200, 24, 1e-4), "gervet": (10, 128, 100, 64, 1e-3)}
    for key, value in zip(("epochs", "hidden", "window", "batch_size", "lr"),
                          defaults[args.protocol], strict=True):  # fmt: skip
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.protocol == "akt":
        run_akt(args)
        return

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
            lr=args.lr,
            seed=args.seed,
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
