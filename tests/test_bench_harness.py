"""Smoke test of the `make bench` harness: quick kernels group, table structure, failing groups."""

from __future__ import annotations

import re

import pytest

from bench import run
from bench.table import Row

HEADER = "| benchmark | ours | baseline (named) | ratio | target | met? |"


def _boom(quick: bool) -> list[Row]:
    raise RuntimeError("tool missing")


def test_quick_kernels_group_writes_the_table(tmp_path):
    out = tmp_path / "BENCHMARKS.md"
    code = run.run_benchmarks(out, only=["kernels"], quick=True)
    text = out.read_text(encoding="utf-8")
    assert code == 0, text
    assert "noisy" in text and "numba" in text and "cpu count" in text
    assert HEADER in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and line != HEADER]
    names = [r.split("|")[1].strip() for r in rows]
    assert sum(n.startswith("LTTB") for n in names) == 1
    assert sum(n.startswith("MinMaxLTTB") for n in names) == 2
    assert any(n.startswith("fit_ols_batch") for n in names)
    assert any(n.startswith("fit_theil_sen_batch") for n in names)
    for r in rows:
        cells = [c.strip() for c in r.strip("|").split("|")]
        assert len(cells) == 6, r
        assert cells[5] in {"yes", "**no**", "–"}, r  # no error rows
        assert re.match(r"^[\d.]+ (s|ms|µs)$", cells[1]), r
        assert re.match(r"^[\d.]+x$", cells[3]), r
    assert "First call" in text


def test_failing_group_is_recorded_and_others_still_run(tmp_path, monkeypatch):
    monkeypatch.setattr(run, "GROUPS", [run.Group("broken", f"{__name__}:_boom"),
                                        run.Group("missing", "no_such_module:bench"),
                                        run.Group("fine", f"{__name__}:_fine")])
    out = tmp_path / "B.md"
    assert run.run_benchmarks(out, only=None, quick=True) == 1
    text = out.read_text(encoding="utf-8")
    assert "RuntimeError: tool missing" in text
    assert "ModuleNotFoundError" in text
    assert "| fine row | 1.0 ms |" in text


def _fine(quick: bool) -> list[Row]:
    return [Row("fine row", 1e-3, "base", 2e-3, ">= 1x", min_speedup=1.0)]


def test_only_keeps_other_groups_sections(tmp_path, monkeypatch):
    monkeypatch.setattr(run, "GROUPS", [run.Group("fine", f"{__name__}:_fine"),
                                        run.Group("other", f"{__name__}:_fine")])
    out = tmp_path / "B.md"
    assert run.run_benchmarks(out, only=None, quick=True) == 0
    assert run.run_benchmarks(out, only=["fine"], quick=True) == 0
    text = out.read_text(encoding="utf-8")
    assert text.count("<!-- group:other -->") == 1 and text.count("<!-- group:fine -->") == 1
    assert run.run_benchmarks(out, only=["nothing-matches"], quick=True) == 2


@pytest.mark.parametrize(("row", "met"), [
    (Row("a", 1.0, "b", 2.0, "", min_speedup=1.0), True),
    (Row("a", 1.0, "b", 2.0, "", min_speedup=3.0), False),
    (Row("a", 3.0, "b", 1.0, "", min_speedup=1 / 3), True),
    (Row("a", 0.01, limit_s=0.05), True),
    (Row("a", error="x"), None),
])
def test_row_target_logic(row, met):
    assert row.met is met
