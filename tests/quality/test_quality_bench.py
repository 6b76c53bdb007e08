"""The benchmark script runs in quick mode and prints the documented JSON fields."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import REPO


def test_quick_benchmark_prints_json() -> None:
    script = REPO / "bench" / "quality.py"
    out = subprocess.run(
        [sys.executable, str(script), "--quick", "--no-crowdkit"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result = json.loads(out.stdout)
    assert result["config"]["quick"] is True
    for section in ("majority_vote", "dawid_skene", "glad", "krippendorff_alpha", "memory"):
        assert section in result
    assert result["dawid_skene"]["accuracy"] > result["majority_vote"]["accuracy"] - 0.02
    assert result["memory"]["dawid_skene_peak_over_input"] > 0
