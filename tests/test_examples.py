"""Every example under docs/examples runs and prints what its docstring promises."""

from __future__ import annotations

import csv
import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"


def test_predict_passes_example_writes_the_csv_it_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(EXAMPLES / "predict_passes.py"), run_name="__main__")
    printed = capsys.readouterr().out.splitlines()
    count = int(printed[0].split()[0])
    with (tmp_path / "passes.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert count == len(rows) > 100
    best = max(rows, key=lambda row: float(row["max_elevation_deg"]))
    assert printed[1].startswith(f"highest: {best['satellite']} over {best['station']}")
