"""``risk_path``: run a test module once with the compiled decision path (where the checks allow it)
and once with the plug-in path (the default) (``pytestmark = pytest.mark.usefixtures("risk_path")``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tradeforge.risk import engine


@pytest.fixture(params=["compiled", "plugin"])
def risk_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setattr(engine, "COMPILED_DEFAULT", "auto" if request.param == "compiled" else False)
    yield request.param
