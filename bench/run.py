"""The `make bench` harness: run registered benchmark groups and write BENCHMARKS.md.

Adding a group
--------------
Write a function ``def bench_<topic>(quick: bool) -> list[Row]`` in a module of your own
(``bench.table.Row``; time with ``bench.table.time_call``, which excludes the
warm-up / JIT call and returns the median), then add ONE line to ``GROUPS`` below::

    Group("ingest", "bench.ingest:bench_ingest"),

The package sits beside the layers, not in one: a group may drive any of them (HTTP,
Chromium, the ingest), and no layer imports it (tests/test_layers.py). Groups are imported
by name when they run, so a group that raises, or whose module cannot be imported (e.g. a
missing optional tool), becomes one error row; the other groups still run.
``quick=True`` must use small inputs: tests/test_bench_harness.py runs it as a smoke test.

The file keeps one section per group between ``<!-- group:NAME -->`` markers, so
``bess bench --only NAME`` rewrites that group's section and keeps the others.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import platform
import re
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

from bench.table import Row, render_group


@dataclass(frozen=True)
class Group:
    """A benchmark group: its name (matched by --only) and ``module:function`` to call."""

    name: str
    target: str


GROUPS: list[Group] = [
    Group("kernels", "bench.kernels:bench_kernels"),
    Group("cells", "bench.cells:bench_cells"),
    Group("load", "bench.load:bench_load"),
    Group("fleet", "bench.fleet:bench_fleet"),
    Group("dashboard", "bench.dashboard:bench_dashboard"),
    Group("api", "bench.api:bench_api"),
    Group("ingest", "bench.ingest:bench_ingest"),
]

_SECTION = re.compile(r"<!-- group:(?P<name>[\w.-]+) -->\n(?P<body>.*?)<!-- /group:(?P=name) -->\n",
                      re.DOTALL)


def machine_info() -> str:
    import numba
    import numpy

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count()
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return "\n".join([
        f"- date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- cpu: {cpu}; cpu count {os.cpu_count()}, usable {usable}; "
        f"numba threads {numba.get_num_threads()} ({numba.threading_layer() if _numba_ran() else 'layer n/a'})",
        f"- python {platform.python_version()}, numba {numba.__version__}, numpy {numpy.__version__}",
    ])


def _numba_ran() -> bool:
    import numba

    try:
        numba.threading_layer()
    except ValueError:
        return False
    return True


def run_group(group: Group, quick: bool) -> list[Row]:
    """Run one group; any exception becomes a single error row."""
    try:
        module_name, func_name = group.target.split(":")
        func = getattr(importlib.import_module(module_name), func_name)
        rows = list(func(quick))
        if not rows:
            raise RuntimeError("group returned no rows")
        return rows
    except Exception as exc:  # a broken group must not stop the others
        last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
        where = f" ({Path(last[0].filename).name}:{last[0].lineno})" if last else ""
        return [Row(benchmark=f"{group.name} (whole group)",
                    error=f"{type(exc).__name__}: {exc}{where}")]


def _header(quick: bool) -> str:
    return "\n".join([
        "# Benchmarks",
        "",
        "Written by `make bench` (`bess bench --out BENCHMARKS.md`); do not edit by hand.",
        "Times are medians of several repeats after a warm-up call (JIT compile excluded and",
        "reported once per row); ratio = baseline time / our time (above 1x: ours is faster),",
        "measured in the same run.",
        "**The machine is shared and noisy**: other jobs run beside the benchmarks, so expect",
        "run-to-run spread of tens of percent; compare ratios, not absolute times.",
        "",
        "Machine (last run):",
        "",
        machine_info() + ("\n- **quick run: small inputs, numbers not comparable**" if quick else ""),
        "",
    ])


def run_benchmarks(out: Path, only: list[str] | None = None, quick: bool = False) -> int:
    """Run the groups whose name contains any of `only` (all if None); write `out`.

    Returns 0 when every selected group ran, 1 when any group errored (its row says why),
    2 when `only` matched no group.
    """
    selected = [g for g in GROUPS if not only or any(o in g.name for o in only)]
    if not selected:
        names = ", ".join(g.name for g in GROUPS)
        print(f"bess bench: --only {only} matches no group (groups: {names})", file=sys.stderr)
        return 2
    out = Path(out)
    sections: dict[str, str] = {}
    if out.exists():
        sections = {m["name"]: m["body"] for m in _SECTION.finditer(out.read_text(encoding="utf-8"))}
    errors = 0
    for group in selected:
        print(f"bench: {group.name} ...", file=sys.stderr, flush=True)
        rows = run_group(group, quick)
        errors += any(r.error is not None for r in rows)
        sections[group.name] = render_group(group.name, rows)
        print(sections[group.name], file=sys.stderr)
    order = [g.name for g in GROUPS] + sorted(set(sections) - {g.name for g in GROUPS})
    body = "".join(f"<!-- group:{name} -->\n{sections[name]}<!-- /group:{name} -->\n\n"
                   for name in order if name in sections)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(_header(quick) + "\n" + body, encoding="utf-8")
    print(f"bench: wrote {out}", file=sys.stderr)
    return 1 if errors else 0
