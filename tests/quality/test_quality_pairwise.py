"""Bradley-Terry and Elo against choix, evalica and evalica's golden scores."""

from __future__ import annotations

import choix
import evalica
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import datasets_dir
from labelvault.errors import InvalidInput
from labelvault.quality import BradleyTerry, Elo, encode_items

OUTCOME = {"a": 1.0, "b": 0.0, "tie": 0.5}


def _battles(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, pd.DataFrame]:
    folder = datasets_dir() / name
    if not folder.exists():
        pytest.skip("shared datasets not found")
    frame = pd.read_csv(folder / "battles.csv")
    items = np.unique(np.concatenate([frame["model_a"], frame["model_b"]]))
    left = np.searchsorted(items, frame["model_a"])
    right = np.searchsorted(items, frame["model_b"])
    outcome = frame["winner"].map(OUTCOME).to_numpy()
    golden_file = "food-golden.csv" if name == "evalica_food" else "llmfao-golden.csv"
    golden = pd.read_csv(folder / "raw" / golden_file)
    return left, right, outcome, items, golden


@pytest.mark.parametrize("name", ["evalica_food", "llmfao"])
def test_bradley_terry_and_elo_match_evalica_golden_scores(name: str) -> None:
    left, right, outcome, items, golden = _battles(name)
    bt = BradleyTerry(n_bootstrap=0).fit(left, right, outcome)
    expected = golden[golden.algorithm == "bradley_terry"].set_index("item")["score"]
    expected = expected.reindex(items).to_numpy()
    assert np.allclose(bt.strengths_, expected / expected.sum(), rtol=1e-5, atol=1e-7)
    elo = Elo().fit(left, right, outcome)
    expected_elo = golden[golden.algorithm == "elo"].set_index("item")["score"].reindex(items)
    assert np.allclose(elo.scores_, expected_elo.to_numpy(), atol=1e-9)
    assert items[bt.ranking_[0]] == expected_elo.idxmax() or name == "llmfao"


def test_davidson_ties_match_newmans_algorithm_in_evalica() -> None:
    left, right, outcome, items, _ = _battles("llmfao")
    winners = [
        evalica.Winner.X if o == 1 else evalica.Winner.Y if o == 0 else evalica.Winner.Draw
        for o in outcome
    ]
    reference = evalica.newman(items[left], items[right], winners, tolerance=1e-14, limit=100_000)
    scores = reference.scores.reindex(items).to_numpy()
    ours = BradleyTerry(ties="davidson", prior=0.0, n_bootstrap=0).fit(left, right, outcome)
    assert np.allclose(ours.strengths_, scores / scores.sum(), rtol=1e-6)
    # Newman writes the tie weight as 2v where Davidson writes nu.
    assert ours.nu_ == pytest.approx(2 * reference.v, rel=1e-5)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n_items=st.integers(2, 8), n=st.integers(30, 200))
def test_bradley_terry_without_ties_matches_choix(seed: int, n_items: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    strength = rng.normal(0, 1, n_items)
    left = rng.integers(0, n_items, n)
    right = (left + rng.integers(1, n_items, n)) % n_items
    wins = rng.random(n) < 1 / (1 + np.exp(strength[right] - strength[left]))
    # Every item wins and loses at least once against a cycle, so the MLE exists.
    cycle = np.arange(n_items)
    left = np.concatenate((left, cycle, (cycle + 1) % n_items))
    right = np.concatenate((right, (cycle + 1) % n_items, cycle))
    wins = np.concatenate((wins, np.ones(2 * n_items, dtype=bool)))
    pairs = [(a, b) if w else (b, a) for a, b, w in zip(left, right, wins, strict=True)]
    expected = choix.opt_pairwise(n_items, pairs, alpha=0.0, tol=1e-12)
    ours = BradleyTerry(prior=0.0, n_bootstrap=0).fit(left, right, wins.astype(float))
    assert np.allclose(ours.scores_, expected - expected.mean(), atol=1e-5)


def test_bootstrap_intervals_are_seeded_and_cover_the_estimate() -> None:
    left, right, outcome, items, _ = _battles("llmfao")
    first = BradleyTerry(n_bootstrap=50, seed=7).fit(left, right, outcome)
    second = BradleyTerry(n_bootstrap=50, seed=7).fit(left, right, outcome)
    other = BradleyTerry(n_bootstrap=50, seed=8).fit(left, right, outcome)
    assert np.array_equal(first.ci_, second.ci_)
    assert not np.array_equal(first.ci_, other.ci_)
    assert first.ci_.shape == (items.size, 2)
    inside = (first.ci_[:, 0] <= first.scores_) & (first.scores_ <= first.ci_[:, 1])
    assert inside.mean() > 0.9
    assert np.isnan(BradleyTerry(n_bootstrap=0).fit(left, right, outcome).ci_).all()


def test_an_item_that_never_loses_gets_a_finite_top_score() -> None:
    bt = BradleyTerry(n_bootstrap=0).fit([0, 0, 1], [1, 2, 2], [1.0, 1.0, 0.5])
    assert np.isfinite(bt.scores_).all() and bt.ranking_[0] == 0


def test_codes_from_encode_and_input_errors() -> None:
    left, right, items = encode_items(["gpt", "llama", "gpt"], ["llama", "mistral", "mistral"])
    assert items.tolist() == ["gpt", "llama", "mistral"] and right.tolist() == [1, 2, 2]
    bt = BradleyTerry(n_bootstrap=0).fit(left, right, [1.0, 0.5, 1.0])
    assert items[bt.ranking_[0]] == "gpt"
    with pytest.raises(InvalidInput, match="between 0 and 1"):
        BradleyTerry().fit([0], [1], [2.0])
    with pytest.raises(InvalidInput, match="against itself"):
        Elo().fit([0], [0], [1.0])
    with pytest.raises(InvalidInput, match="0, 0.5 or 1"):
        BradleyTerry(ties="davidson").fit([0, 1], [1, 0], [0.7, 1.0])
    with pytest.raises(InvalidInput, match="empty"):
        BradleyTerry().fit([], [], [])
