"""Benchmark rows, timing helpers and the markdown table they render to."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """One benchmark line: our median time against a named baseline's, and the target.

    speedup = baseline_s / ours_s; the target is met when speedup >= min_speedup
    (1.0: as fast or faster; 100.0: 100x faster; 1/3: within 3x of the baseline).
    For absolute targets (no baseline) set limit_s: met when ours_s <= limit_s.
    """

    benchmark: str
    ours_s: float | None = None
    baseline: str = "–"
    baseline_s: float | None = None
    target: str = "–"
    min_speedup: float | None = None
    limit_s: float | None = None
    compile_s: float | None = None
    error: str | None = None

    @property
    def speedup(self) -> float | None:
        if self.ours_s and self.baseline_s:
            return self.baseline_s / self.ours_s
        return None

    @property
    def met(self) -> bool | None:
        if self.error is not None or self.ours_s is None:
            return None
        if self.min_speedup is not None:
            return None if self.speedup is None else self.speedup >= self.min_speedup
        if self.limit_s is not None:
            return self.ours_s <= self.limit_s
        return None


def time_call(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """(first-call seconds, median seconds of `repeats` further calls): warm-up excluded."""
    t0 = time.perf_counter()
    fn()
    first = time.perf_counter() - t0
    times = []
    for _ in range(max(repeats, 1)):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return first, statistics.median(times)


def format_seconds(s: float | None) -> str:
    if s is None:
        return "–"
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.1f} ms"
    return f"{s * 1e6:.0f} µs"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_group(name: str, rows: list[Row]) -> str:
    """Markdown table of one group: benchmark | ours | baseline (named) | ratio | target | met?"""
    lines = [f"### {name}", "",
             "| benchmark | ours | baseline (named) | ratio | target | met? |",
             "|---|---|---|---|---|---|"]
    compile_notes = []
    for r in rows:
        if r.error is not None:
            lines.append(f"| {_cell(r.benchmark)} | error | {_cell(r.baseline)} | – | "
                         f"{_cell(r.target)} | error: {_cell(r.error)} |")
            continue
        base = r.baseline if r.baseline_s is None else f"{r.baseline}: {format_seconds(r.baseline_s)}"
        ratio = "–" if r.speedup is None else f"{r.speedup:.2f}x"
        met = {True: "yes", False: "**no**", None: "–"}[r.met]
        lines.append(f"| {_cell(r.benchmark)} | {format_seconds(r.ours_s)} | {_cell(base)} | "
                     f"{ratio} | {_cell(r.target)} | {met} |")
        if r.compile_s is not None:
            compile_notes.append(f"{r.benchmark}: {format_seconds(r.compile_s)}")
    if compile_notes:
        lines += ["", "First call (JIT compile or cache load, excluded from the medians): "
                  + "; ".join(compile_notes) + "."]
    return "\n".join(lines) + "\n"
