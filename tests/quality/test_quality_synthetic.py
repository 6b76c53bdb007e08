"""Accuracy on data drawn from the Dawid-Skene model (with spammers and adversaries),
side by side with crowd-kit run live on the same answers."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import crowdkit_frame, crowdkit_labels, synthetic
from labelvault.quality import GLAD, MACE, DawidSkene, MajorityVote, OneCoinDawidSkene

TOLERANCE = 0.005


def _accuracy(labels: np.ndarray, truth: np.ndarray) -> float:
    return float((np.asarray(labels) == truth).mean())


@pytest.mark.parametrize("seed", [11, 12])
def test_dawid_skene_family_vs_crowdkit_on_adversarial_crowd(seed: int) -> None:
    from crowdkit.aggregation import DawidSkene as CkDawidSkene
    from crowdkit.aggregation import MajorityVote as CkMajorityVote

    d = synthetic(
        seed, n_tasks=300, n_workers=25, n_classes=3, per_task=5, spammers=0.2, adversaries=0.1
    )
    frame = crowdkit_frame(d["tasks"], d["workers"], d["labels"])
    n, truth = d["truth"].size, d["truth"]
    ck_mv = _accuracy(crowdkit_labels(CkMajorityVote().fit(frame), n), truth)
    ck_ds = _accuracy(
        crowdkit_labels(CkDawidSkene(n_iter=100, tol=float("-inf")).fit(frame), n), truth
    )
    mv = _accuracy(MajorityVote().fit(d["tasks"], d["workers"], d["labels"]).labels_, truth)
    ds = _accuracy(DawidSkene().fit(d["tasks"], d["workers"], d["labels"]).labels_, truth)
    assert mv >= ck_mv - TOLERANCE
    assert ds >= ck_ds - TOLERANCE
    assert ds > mv + 0.03  # modelling the workers pays off against spammers/adversaries


def test_glad_mace_one_coin_vs_crowdkit_on_adversarial_crowds() -> None:
    # Small crowds make single runs swing by several points either way (local optima), so
    # compare the mean accuracy over a few independent crowds.
    from crowdkit.aggregation import GLAD as CkGLAD
    from crowdkit.aggregation import MACE as CkMACE
    from crowdkit.aggregation import OneCoinDawidSkene as CkOneCoin

    pairs = {
        "GLAD": (lambda: CkGLAD(n_iter=10), GLAD),
        "MACE": (lambda: CkMACE(n_restarts=1, n_iter=50), MACE),
        "OneCoinDawidSkene": (lambda: CkOneCoin(n_iter=50, tol=float("-inf")), OneCoinDawidSkene),
    }
    scores: dict[str, list[tuple[float, float]]] = {name: [] for name in pairs}
    for seed in (31, 32):
        # 40 workers, so the crowd keeps an honest majority (with 15 workers a draw can
        # hold 8 spammers and adversaries, and every method falls below chance).
        d = synthetic(
            seed,
            n_tasks=100,
            n_workers=40,
            n_classes=2 + seed % 2,
            per_task=4,
            spammers=0.2,
            adversaries=0.1,
        )
        frame = crowdkit_frame(d["tasks"], d["workers"], d["labels"])
        n, truth = d["truth"].size, d["truth"]
        for name, (theirs, ours) in pairs.items():
            ck = _accuracy(crowdkit_labels(theirs().fit(frame), n), truth)
            mine = _accuracy(ours().fit(d["tasks"], d["workers"], d["labels"]).labels_, truth)
            scores[name].append((mine, ck))
    for name, results in scores.items():
        mine, ck = np.mean(results, axis=0)
        assert mine >= ck - TOLERANCE, f"{name}: {mine:.4f} vs crowd-kit {ck:.4f}"


@pytest.mark.parametrize("seed", range(5))
def test_worker_models_beat_majority_vote_on_larger_crowds(seed: int) -> None:
    d = synthetic(
        100 + seed,
        n_tasks=2000,
        n_workers=60,
        n_classes=4,
        per_task=5,
        spammers=0.2,
        adversaries=0.1,
    )
    t, w, y, truth = d["tasks"], d["workers"], d["labels"], d["truth"]
    mv = _accuracy(MajorityVote().fit(t, w, y).labels_, truth)
    for model in (DawidSkene(), GLAD(), MACE(n_restarts=2), OneCoinDawidSkene()):
        assert _accuracy(model.fit(t, w, y).labels_, truth) > mv
    ds = DawidSkene().fit(t, w, y)
    # The adversaries' confusion matrices are recovered (they shift every class by one).
    shift = np.roll(np.eye(4), 1, axis=1)
    for worker in d["adversaries"]:
        assert (ds.confusions_[worker].argmax(axis=1) == shift.argmax(axis=1)).all()
