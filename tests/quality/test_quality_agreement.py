"""Agreement metrics against independent implementations (to 1e-9)."""

from __future__ import annotations

import itertools

import krippendorff
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from conftest import datasets_dir, load_dataset
from labelvault.errors import InvalidInput
from labelvault.quality import (
    annotator_agreement,
    cohen_kappa,
    encode,
    fleiss_kappa,
    item_agreement,
    krippendorff_alpha,
    percent_agreement,
)

LEVELS = ["nominal", "ordinal", "interval", "ratio"]


@st.composite
def reliability_matrices(draw: st.DrawFn) -> np.ndarray:
    raters = draw(st.integers(2, 6))
    units = draw(st.integers(2, 30))
    seed = draw(st.integers(0, 10_000))
    rng = np.random.default_rng(seed)
    values = rng.integers(1, draw(st.integers(3, 8)), size=(raters, units)).astype(float)
    if draw(st.booleans()):
        values = values + rng.choice([0.0, 0.25, 0.5], size=values.shape)  # not whole numbers
    values[rng.random(values.shape) < draw(st.floats(0.0, 0.5))] = np.nan
    values[:2, 0] = [1.0, 2.0]  # at least one pairable unit with disagreement
    return values


@settings(max_examples=60, deadline=None)
@given(matrix=reliability_matrices(), level=st.sampled_from(LEVELS))
def test_krippendorff_alpha_matches_the_krippendorff_package(
    matrix: np.ndarray, level: str
) -> None:
    expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement=level)
    assert krippendorff_alpha(matrix, level=level) == pytest.approx(expected, abs=1e-9)
    # Long format gives the same number.
    raters, units = np.nonzero(~np.isnan(matrix))
    long = krippendorff_alpha(units, raters, matrix[raters, units], level=level)
    assert long == pytest.approx(expected, abs=1e-9)


def test_krippendorff_textbook_values() -> None:
    frame = pd.read_csv(datasets_dir() / "krippendorff_example" / "labels.csv")
    codes = encode(frame)
    values = frame["label"].to_numpy(dtype=float)
    expected = {"nominal": 0.7434, "ordinal": 0.8154, "interval": 0.8491, "ratio": 0.7974}
    for level, alpha in expected.items():
        got = krippendorff_alpha(codes.tasks, codes.workers, values, level=level)
        assert got == pytest.approx(alpha, abs=5e-5)
    assert krippendorff_alpha(codes.tasks, codes.workers, values) == pytest.approx(904 / 1216)
    gcl = encode(pd.read_csv(datasets_dir() / "krippendorff_example" / "labels_gcl.csv"))
    assert krippendorff_alpha(gcl.tasks, gcl.workers, gcl.labels) == pytest.approx(1 / 12)


def test_krippendorff_integer_matrix_with_missing_marker() -> None:
    rng = np.random.default_rng(3)
    matrix = rng.integers(0, 5, size=(8, 200))
    matrix[rng.random(matrix.shape) < 0.3] = -1
    as_float = np.where(matrix < 0, np.nan, matrix.astype(float))
    expected = krippendorff.alpha(reliability_data=as_float, level_of_measurement="ordinal")
    got = krippendorff_alpha(matrix, level="ordinal", missing=-1)
    assert got == pytest.approx(expected, abs=1e-9)


def test_krippendorff_errors_and_undefined_cases() -> None:
    with pytest.raises(InvalidInput, match="no values"):
        krippendorff_alpha(np.full((3, 4), np.nan))
    with pytest.raises(InvalidInput, match="two or more values"):
        krippendorff_alpha(np.array([[1.0, np.nan], [np.nan, 2.0]]))
    with pytest.raises(InvalidInput, match="Unknown level"):
        krippendorff_alpha(np.ones((2, 2)), level="cardinal")  # type: ignore[arg-type]
    assert np.isnan(krippendorff_alpha(np.ones((3, 5))))  # no variation at all


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    items=st.integers(2, 40),
    raters=st.integers(2, 6),
    k=st.integers(2, 5),
)
def test_fleiss_kappa_matches_statsmodels(seed: int, items: int, raters: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, size=(items, raters))
    labels[:, 1] = np.where(rng.random(items) < 0.5, labels[:, 0], labels[:, 1])
    table = np.stack([(labels == c).sum(axis=1) for c in range(k)], axis=1)
    if len(np.unique(labels)) == 1:
        return
    expected = sm_fleiss_kappa(table, method="fleiss")
    assert fleiss_kappa(table) == pytest.approx(expected, abs=1e-9)
    tasks = np.repeat(np.arange(items), raters)
    workers = np.tile(np.arange(raters), items)
    assert fleiss_kappa(tasks, workers, labels.ravel()) == pytest.approx(expected, abs=1e-9)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning")
@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(2, 60),
    k=st.integers(2, 6),
    weights=st.sampled_from([None, "linear", "quadratic"]),
)
def test_cohen_kappa_matches_scikit_learn(seed: int, n: int, k: int, weights: str | None) -> None:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, k, n)
    b = np.where(rng.random(n) < 0.6, a, rng.integers(0, k, n))
    expected = cohen_kappa_score(a, b, labels=list(range(k)), weights=weights)
    got = cohen_kappa(a, b, weights=weights, n_classes=k)  # type: ignore[arg-type]
    if np.isnan(expected):
        assert np.isnan(got)
    else:
        assert got == pytest.approx(expected, abs=1e-9)


def _pairs_by_brute_force(tasks: np.ndarray, workers: np.ndarray, labels: np.ndarray) -> tuple:
    per_item: dict[int, float] = {}
    per_worker: dict[int, list[float]] = {}
    for t in np.unique(tasks):
        rows = np.flatnonzero(tasks == t)
        if rows.size < 2:
            continue
        pairs = list(itertools.permutations(rows, 2))
        per_item[int(t)] = float(np.mean([labels[i] == labels[j] for i, j in pairs]))
        for i in rows:
            others = [labels[i] == labels[j] for j in rows if j != i]
            per_worker.setdefault(int(workers[i]), []).append(float(np.mean(others)))
    return per_item, {w: float(np.mean(v)) for w, v in per_worker.items()}


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 80))
def test_plain_agreement_matches_a_brute_force_count(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    tasks, workers, labels = rng.integers(0, 10, n), rng.integers(0, 6, n), rng.integers(0, 3, n)
    tasks[:2] = 0  # at least one item with two answers
    items, per_worker = _pairs_by_brute_force(tasks, workers, labels)
    got_items = item_agreement(tasks, workers, labels)
    for t, value in items.items():
        assert got_items[t] == pytest.approx(value, abs=1e-12)
    assert np.isnan(np.delete(got_items, list(items))).all()
    assert percent_agreement(tasks, workers, labels) == pytest.approx(np.mean(list(items.values())))
    got_workers = annotator_agreement(tasks, workers, labels)
    for w, value in per_worker.items():
        assert got_workers[w] == pytest.approx(value, abs=1e-12)


def test_agreement_on_a_real_dataset_is_consistent() -> None:
    data = load_dataset("zheng_dog")
    t, w, y = data.codes
    # 10 answers per dog picture: Fleiss' kappa equals statsmodels on the count table.
    table = np.stack([np.bincount(t[y == c], minlength=data.encoded.n_tasks) for c in range(4)], 1)
    assert fleiss_kappa(t, w, y) == pytest.approx(sm_fleiss_kappa(table), abs=1e-9)
    dense = np.full((data.encoded.n_workers, data.encoded.n_tasks), np.nan)
    dense[w, t] = y
    assert krippendorff_alpha(t, w, y) == pytest.approx(
        krippendorff.alpha(reliability_data=dense, level_of_measurement="nominal"), abs=1e-9
    )
