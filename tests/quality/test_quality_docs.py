"""Every ```python block of docs/quality.md runs, in order, from the repository root."""

from __future__ import annotations

import re

import pytest

from conftest import REPO, datasets_dir

DOC = REPO / "docs" / "quality.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)


def test_the_quality_guide_runs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if not (datasets_dir() / "zheng_dog").exists():
        pytest.skip(f"shared datasets not found under {datasets_dir()}")
    monkeypatch.setenv("LABELVAULT_DATASETS", str(datasets_dir()))
    monkeypatch.chdir(REPO)
    blocks = python_blocks()
    assert len(blocks) >= 8
    namespace: dict[str, object] = {"__name__": "quality_guide"}
    for number, block in enumerate(blocks, start=1):
        try:
            exec(compile(block, f"{DOC.name} block {number}", "exec"), namespace)
        except Exception as error:  # pragma: no cover - message for the reader
            raise AssertionError(f"docs/quality.md block {number} failed: {error!r}") from error
    printed = capsys.readouterr().out
    assert "807 109 4" in printed
    assert "0.83 0.844" in printed
    assert "ds gold_accuracy" in printed
    assert "0.519 0.519 0.641" in printed
    assert "'label': 'PER'" in printed
    assert "0.85\n0.64" in printed
