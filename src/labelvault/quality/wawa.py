"""Wawa: Worker Agreement With Aggregate.

Two passes: a plain majority vote, then each worker's agreement rate with that vote
becomes their weight in a second, weighted vote. Cheap and robust; a good baseline when
workers differ in quality but there are too few answers for a full confusion model.
"""

from __future__ import annotations

import numpy as np

from ._arrays import Answers, FloatArray
from .majority_vote import MajorityVote


class Wawa(MajorityVote):
    """Weighted majority vote with weights = agreement with the plain majority vote.

    Extra fitted attribute: ``weights_`` (n_workers,), each worker's agreement rate with
    the first-pass majority label (0 for a worker with no answers).
    """

    weights_: FloatArray

    def _fit(self, data: Answers) -> None:
        first = MajorityVote(self.tie_break)
        first._fit_weighted(data, None)
        hits = (first.labels_[data.tasks] == data.labels).astype(np.float64)
        agreed = np.bincount(data.workers, weights=hits, minlength=data.n_workers)
        counts = np.bincount(data.workers, minlength=data.n_workers)
        self.weights_ = agreed / np.maximum(counts, 1)
        self._fit_weighted(data, self.weights_[data.workers])
