"""The pass timeline picture: a real PNG from a small real prediction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from groundlink.errors import GroundlinkError
from groundlink.orbits.ingest import parse_elements
from groundlink.passes.engine import find_passes
from groundlink.passes.table import PassTable
from groundlink.plots import INSTALL_HINT, plot_passes
from groundlink.stations.io import demo_stations

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
START = datetime(2024, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def table() -> PassTable:
    """Six hours of four demo-fleet satellites over six demo stations."""
    text = (resources.files("groundlink") / "data" / "demo_fleet.tle").read_text("utf-8")
    satellites = parse_elements(text).elements[:4]
    return find_passes(satellites, demo_stations()[:6], START, START + timedelta(hours=6))


def test_plot_writes_a_png(table: PassTable, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    assert len(table) > 10
    path = plot_passes(table, tmp_path / "passes.png")
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 20_000


def test_plot_of_no_passes_and_of_few_rows(table: PassTable, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    empty = table.select(np.zeros(len(table), dtype=bool))
    assert plot_passes(empty, tmp_path / "empty.png").read_bytes().startswith(PNG_SIGNATURE)
    few = plot_passes(table, tmp_path / "few.png", max_rows=2)
    assert few.read_bytes().startswith(PNG_SIGNATURE)


def test_plot_without_matplotlib_says_how_to_install(
    table: PassTable, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("groundlink.plots.matplotlib_available", lambda: False)
    with pytest.raises(GroundlinkError, match=r"pip install 'groundlink\[plot\]'"):
        plot_passes(table, tmp_path / "passes.png")
    assert not (tmp_path / "passes.png").exists()
    assert "groundlink[plot]" in INSTALL_HINT
