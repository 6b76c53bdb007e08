"""The fit() contract shared by every categorical truth-inference model.

Models are scikit-learn style: parameters in __init__, data in fit(), results in
attributes ending with an underscore. Inputs are equal-length 1-D arrays of codes:
answer i says that worker ``workers[i]`` gave label ``labels[i]`` to task ``tasks[i]``.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np

from ._arrays import Answers, FloatArray, IntArray, argmax_rows, check_answers


class CategoricalAggregator:
    """Base class: infers one true class per task from workers' answers.

    Fitted attributes (all models):

    - ``labels_``: (n_tasks,) most probable class per task, -1 for a task with no answers.
    - ``probas_``: (n_tasks, n_classes) posterior over classes; a task with no answers
      gets the model's class prior.
    - ``skills_``: (n_workers,) expected fraction of the worker's answers that are correct
      under the model's posterior (NaN for a worker with no answers).
    - ``n_tasks_``, ``n_workers_``, ``n_classes_``: sizes used in the fit.
    """

    labels_: IntArray
    probas_: FloatArray
    skills_: FloatArray
    n_tasks_: int
    n_workers_: int
    n_classes_: int

    def fit(
        self,
        tasks: Any,
        workers: Any,
        labels: Any,
        *,
        n_classes: int | None = None,
        n_tasks: int | None = None,
        n_workers: int | None = None,
    ) -> Self:
        """Fit the model to answers given as codes (see ``encode``).

        n_classes / n_tasks / n_workers default to the largest code + 1; set them when some
        classes, tasks or workers have no answers yet.
        """
        data = check_answers(
            tasks, workers, labels, n_tasks=n_tasks, n_workers=n_workers, n_classes=n_classes
        )
        self._fit(data)
        return self

    def fit_predict(self, tasks: Any, workers: Any, labels: Any, **sizes: Any) -> IntArray:
        """Fit and return ``labels_``."""
        return self.fit(tasks, workers, labels, **sizes).labels_

    def fit_predict_proba(self, tasks: Any, workers: Any, labels: Any, **sizes: Any) -> FloatArray:
        """Fit and return ``probas_``."""
        return self.fit(tasks, workers, labels, **sizes).probas_

    # -- to implement -------------------------------------------------------------------
    def _fit(self, data: Answers) -> None:
        raise NotImplementedError

    def _answer_likelihoods(
        self, tasks: IntArray, workers: IntArray, labels: IntArray
    ) -> FloatArray:
        """(n, n_classes): probability of each answer under each possible true class.

        Used to score the fitted model on held-out answers (see ``AutoAggregator``).
        """
        raise NotImplementedError

    # -- shared helpers -----------------------------------------------------------------
    def _store(
        self,
        data: Answers,
        probas: FloatArray,
        prior: FloatArray,
        tie_order: IntArray | None = None,
        labels: IntArray | None = None,
    ) -> None:
        """Save the posterior and derive labels_ (unless given) and skills_ from it."""
        answered = data.task_counts() > 0
        probas[~answered] = prior
        labels = argmax_rows(probas, tie_order) if labels is None else labels.copy()
        labels[~answered] = -1
        self.n_tasks_ = data.n_tasks
        self.n_workers_ = data.n_workers
        self.n_classes_ = data.n_classes
        self.probas_ = probas
        self.labels_ = labels
        self.skills_ = expected_accuracy(data, probas)

    def __repr__(self) -> str:
        params = ", ".join(
            f"{k}={v!r}" for k, v in vars(self).items() if not k.endswith("_") and k[0] != "_"
        )
        return f"{type(self).__name__}({params})"


def expected_accuracy(data: Answers, probas: FloatArray) -> FloatArray:
    """Per worker: mean posterior probability that their answer is the true class."""
    correct = probas[data.tasks, data.labels]
    total = np.bincount(data.workers, weights=correct, minlength=data.n_workers)
    counts = data.worker_counts()
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, total / np.maximum(counts, 1), np.nan)
