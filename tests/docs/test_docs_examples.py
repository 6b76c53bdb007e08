"""Every ```python block in the user docs runs, in order, against a live server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from labelvault.services import accounts
from tests.live_server import serve_app

DOCS = Path(__file__).resolve().parents[2] / "docs"
LIVE_DOCS = ["quickstart.md", "sdk.md"]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def python_blocks(name: str) -> list[str]:
    return BLOCK.findall((DOCS / name).read_text())


@pytest.mark.parametrize("doc", LIVE_DOCS)
def test_doc_examples_run(doc, app, platform, monkeypatch):
    blocks = python_blocks(doc)
    assert blocks, f"{doc} has no python examples"
    org = accounts.init_org(platform, "docs@example.org")
    with serve_app(app) as url:
        monkeypatch.setenv("LABELVAULT_URL", url)
        monkeypatch.setenv("LABELVAULT_TOKEN", org.token)
        namespace: dict[str, object] = {"__name__": "__docs__"}
        for number, block in enumerate(blocks, 1):
            try:
                exec(compile(block, f"{doc}[block {number}]", "exec"), namespace)
            except Exception as exc:  # pragma: no cover - the message is the point
                extra = getattr(exc, "errors", None)
                pytest.fail(f"{doc} block {number} failed: {exc!r} {extra}\n{block}")
