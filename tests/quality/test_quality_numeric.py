"""Numeric answers: mean, median and the worker-bias-corrected estimate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import datasets_dir
from labelvault.errors import InvalidInput
from labelvault.quality import BiasCorrectedMean, MeanAggregator, MedianAggregator, encode


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 60))
def test_mean_and_median_match_numpy_per_task(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    tasks, workers = rng.integers(0, 8, n), rng.integers(0, 5, n)
    values = rng.normal(size=n).round(1)
    means = MeanAggregator().fit_predict(tasks, workers, values, n_tasks=9)
    medians = MedianAggregator().fit_predict(tasks, workers, values, n_tasks=9)
    for task in range(9):
        mine = values[tasks == task]
        if mine.size:
            assert means[task] == pytest.approx(mine.mean())
            assert medians[task] == pytest.approx(np.median(mine))
        else:
            assert np.isnan(means[task]) and np.isnan(medians[task])


def test_bias_correction_recovers_harsh_and_lenient_raters() -> None:
    rng = np.random.default_rng(0)
    n_tasks, n_workers = 400, 12
    truth = rng.normal(50, 15, n_tasks)
    bias = rng.normal(0, 8, n_workers)
    bias -= bias.mean()
    tasks = np.repeat(np.arange(n_tasks), 3)
    workers = rng.integers(0, n_workers, tasks.size)
    values = truth[tasks] + bias[workers] + rng.normal(0, 2, tasks.size)
    corrected = BiasCorrectedMean().fit(tasks, workers, values)
    plain = MeanAggregator().fit_predict(tasks, workers, values)
    assert np.abs(corrected.values_ - truth).mean() < 0.6 * np.abs(plain - truth).mean()
    assert np.corrcoef(corrected.biases_, bias)[0, 1] > 0.95
    assert corrected.noise_.shape == (n_workers,)


def test_emotion_ratings() -> None:
    folder = datasets_dir() / "zheng_emotion_numeric"
    if not folder.exists():
        pytest.skip("shared datasets not found")
    frame = pd.read_csv(folder / "labels.csv")
    gold = pd.read_csv(folder / "gold.csv")
    enc = encode(frame["task"], frame["worker"], frame["task"])  # labels unused here
    truth = np.full(enc.n_tasks, np.nan)
    truth[enc.task_codes(gold["task"])] = gold["label"]
    values = frame["label"].to_numpy(dtype=float)
    mae = {
        type(model).__name__: float(
            np.abs(model.fit_predict(enc.tasks, enc.workers, values) - truth).mean()
        )
        for model in (MeanAggregator(), MedianAggregator(), BiasCorrectedMean())
    }
    assert mae["MeanAggregator"] == pytest.approx(12.022, abs=1e-3)
    assert mae["MedianAggregator"] == pytest.approx(13.529, abs=1e-3)
    assert mae["BiasCorrectedMean"] < 12.6  # a little behind the mean: biases are small here


def test_numeric_input_errors() -> None:
    with pytest.raises(InvalidInput, match="NaN"):
        MeanAggregator().fit([0, 1], [0, 0], [1.0, np.nan])
    with pytest.raises(InvalidInput, match="numbers"):
        MedianAggregator().fit([0], [0], ["high"])
    with pytest.raises(InvalidInput, match="empty"):
        BiasCorrectedMean().fit([], [], [])
