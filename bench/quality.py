"""Benchmark of labelvault.quality against crowd-kit on the same synthetic data.

Prints one JSON document. Usage:

    python bench/quality.py            # full size: 1,000,000 answers, alpha on 1,000 x 100,000
    python bench/quality.py --quick    # small sizes, a few seconds (CI smoke run)
    python bench/quality.py --no-crowdkit
    python bench/quality.py --out bench/results/quality.json   # also save the JSON

Data: answers drawn from the Dawid-Skene model (100k tasks x 10 answers, 2,000 workers,
5 classes; 10% spammers, 3% adversarial workers). Both Dawid-Skene implementations run
with their defaults (crowd-kit: n_iter=100, tol=1e-5). crowd-kit's GLAD costs minutes
per EM iteration at this size, so both GLADs are also timed for the same small number of
iterations (``--glad-iters``) and the speed-up is taken there (like for like), next to
labelvault's fully converged fit. Peak memory is measured with tracemalloc (NumPy and
SciPy allocations) around one fit.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

from labelvault.quality import GLAD, DawidSkene, MajorityVote, krippendorff_alpha


def synthetic_answers(
    n_tasks: int, per_task: int, n_workers: int, n_classes: int, seed: int
) -> dict[str, np.ndarray]:
    """Answers from the Dawid-Skene generative model with spammers and adversaries."""
    rng = np.random.default_rng(seed)
    truth = rng.choice(n_classes, size=n_tasks, p=rng.dirichlet(np.full(n_classes, 5.0)))
    accuracy = rng.uniform(0.55, 0.95, size=n_workers)
    off = rng.dirichlet(np.ones(n_classes - 1), size=(n_workers, n_classes))
    confusion = np.empty((n_workers, n_classes, n_classes))
    for k in range(n_classes):  # loop over classes, building the matrices
        others = [c for c in range(n_classes) if c != k]
        confusion[:, k, k] = accuracy
        confusion[:, k, others] = off[:, k, :] * (1 - accuracy)[:, None]
    kinds = rng.random(n_workers)
    spammers = kinds < 0.10
    adversaries = (kinds >= 0.10) & (kinds < 0.13)
    confusion[spammers] = rng.dirichlet(np.ones(n_classes), size=int(spammers.sum()))[:, None, :]
    shift = np.roll(np.eye(n_classes), 1, axis=1) * 0.9 + 0.1 / n_classes
    confusion[adversaries] = shift
    tasks = np.repeat(np.arange(n_tasks), per_task)
    workers = rng.integers(0, n_workers, size=tasks.size)
    cumulative = np.cumsum(confusion[workers, truth[tasks]], axis=1)
    labels = (rng.random(tasks.size)[:, None] > cumulative).sum(axis=1)
    labels = np.minimum(labels, n_classes - 1)
    return {"tasks": tasks, "workers": workers, "labels": labels, "truth": truth}


def log(message: str) -> None:
    print(f"[bench/quality] {message}", file=sys.stderr, flush=True)


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def peak_memory(fn: Callable[[], Any]) -> int:
    gc.collect()
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return int(peak)


def accuracy(predicted: np.ndarray, truth: np.ndarray) -> float:
    return round(float((np.asarray(predicted) == truth).mean()), 4)


def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.quick:
        n_tasks, per_task, n_workers, n_classes = 300, 10, 50, 5
        raters, units = 50, 2_000
    else:
        n_tasks, per_task, n_workers, n_classes = 100_000, 10, 2_000, 5
        raters, units = 1_000, 100_000
    data = synthetic_answers(n_tasks, per_task, n_workers, n_classes, args.seed)
    t, w, y, truth = data["tasks"], data["workers"], data["labels"], data["truth"]
    input_bytes = t.nbytes + w.nbytes + y.nbytes
    out: dict[str, Any] = {
        "config": {
            "quick": args.quick,
            "n_answers": int(t.size),
            "n_tasks": n_tasks,
            "n_workers": n_workers,
            "n_classes": n_classes,
            "seed": args.seed,
            "python": platform.python_version(),
            "numpy": np.__version__,
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        }
    }
    repeat = 3 if args.quick else 2

    log(f"labelvault on {t.size:,} answers")
    mv_time, mv = timed(lambda: MajorityVote().fit(t, w, y, n_classes=n_classes), repeat)
    ds_time, ds = timed(lambda: DawidSkene().fit(t, w, y, n_classes=n_classes), repeat)
    glad_time, glad = timed(lambda: GLAD().fit(t, w, y, n_classes=n_classes))
    glad_k_time, _ = timed(
        lambda: GLAD(max_iter=args.glad_iters, tol=-1.0).fit(t, w, y, n_classes=n_classes)
    )
    out["majority_vote"] = {
        "labelvault_s": round(mv_time, 4),
        "accuracy": accuracy(mv.labels_, truth),
    }
    out["dawid_skene"] = {
        "labelvault_s": round(ds_time, 4),
        "labelvault_iterations": ds.n_iter_,
        "accuracy": accuracy(ds.labels_, truth),
    }
    out["glad"] = {
        "labelvault_s": round(glad_time, 4),
        "labelvault_iterations": glad.n_iter_,
        "accuracy": accuracy(glad.labels_, truth),
        f"labelvault_{args.glad_iters}_iterations_s": round(glad_k_time, 4),
    }
    out["memory"] = {
        "input_bytes": input_bytes,
        "majority_vote_peak_bytes": peak_memory(lambda: MajorityVote().fit(t, w, y)),
        "dawid_skene_peak_bytes": peak_memory(lambda: DawidSkene().fit(t, w, y)),
        "glad_peak_bytes": peak_memory(lambda: GLAD(max_iter=3).fit(t, w, y)),
    }
    for key in ("majority_vote", "dawid_skene", "glad"):
        out["memory"][f"{key}_peak_over_input"] = round(
            out["memory"][f"{key}_peak_bytes"] / input_bytes, 2
        )

    log(f"krippendorff alpha on a {raters:,} x {units:,} matrix")
    rng = np.random.default_rng(args.seed)
    matrix = rng.integers(0, 5, size=(raters, units)).astype(np.float64)
    matrix[rng.random((raters, units)) < 0.5] = np.nan
    alpha_time, alpha = timed(lambda: krippendorff_alpha(matrix, level="nominal"), repeat)
    out["config"]["load_average_after_labelvault"] = [round(x, 2) for x in os.getloadavg()]
    out["krippendorff_alpha"] = {
        "shape": [raters, units],
        "missing_share": 0.5,
        "labelvault_s": round(alpha_time, 4),
        "alpha": round(float(alpha), 6),
        "peak_bytes": peak_memory(lambda: krippendorff_alpha(matrix)),
        "input_bytes": int(matrix.nbytes),
    }

    if not args.no_crowdkit:
        out.update(crowdkit_side(t, w, y, truth, args, out))
    return out


def crowdkit_side(
    t: np.ndarray,
    w: np.ndarray,
    y: np.ndarray,
    truth: np.ndarray,
    args: argparse.Namespace,
    ours: dict[str, Any],
) -> dict[str, Any]:
    import pandas as pd
    from crowdkit.aggregation import GLAD as CkGLAD
    from crowdkit.aggregation import DawidSkene as CkDawidSkene
    from crowdkit.aggregation import MajorityVote as CkMajorityVote

    frame = pd.DataFrame({"task": t, "worker": w, "label": y})
    log("crowd-kit MajorityVote, DawidSkene")
    mv_time, mv = timed(lambda: CkMajorityVote().fit(frame))
    ds_time, ds = timed(lambda: CkDawidSkene(n_iter=100).fit(frame))
    log(f"crowd-kit GLAD, {args.glad_iters} iteration(s)")
    glad_time, _ = timed(lambda: CkGLAD(n_iter=args.glad_iters, tol=-1.0).fit(frame))

    def ck_accuracy(model: Any) -> float:
        return accuracy(model.labels_.reindex(np.arange(truth.size)).to_numpy(), truth)

    side = ours
    side["majority_vote"].update(
        crowdkit_s=round(mv_time, 4),
        crowdkit_accuracy=ck_accuracy(mv),
        speedup=round(mv_time / side["majority_vote"]["labelvault_s"], 1),
    )
    side["dawid_skene"].update(
        crowdkit_s=round(ds_time, 4),
        crowdkit_iterations=len(ds.loss_history_),
        crowdkit_accuracy=ck_accuracy(ds),
        speedup=round(ds_time / side["dawid_skene"]["labelvault_s"], 1),
    )
    ours_k = side["glad"][f"labelvault_{args.glad_iters}_iterations_s"]
    side["glad"].update(
        {
            f"crowdkit_{args.glad_iters}_iterations_s": round(glad_time, 4),
            "speedup_same_iterations": round(glad_time / ours_k, 1),
        }
    )
    return side


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (seconds)")
    parser.add_argument("--no-crowdkit", action="store_true", help="skip the crowd-kit side")
    parser.add_argument(
        "--glad-iters",
        type=int,
        default=None,
        help="EM iterations for the like-for-like GLAD timing (default: 3 quick, 1 full)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="also write the JSON to this file")
    args = parser.parse_args(argv)
    if args.glad_iters is None:
        args.glad_iters = 3 if args.quick else 1
    result = run(args)
    text = json.dumps(result, indent=2) + "\n"
    sys.stdout.write(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
