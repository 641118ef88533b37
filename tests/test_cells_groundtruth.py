"""The cell analytics find the demo fleet's ground truth, read from its raw CSV exports with plain Polars.

Not through the store: the files are read here (tolerating the export dirt that can reach cell
files: ';' with decimal comma, a BOM, ISO timestamps with offset, split files), reduced to the
daily maximum per local day, and handed to `extract_sat`, as the query service does with the
store's 1d level.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from core.cells import SatMatrix, analyze_cells, daily_max_from_long, extract_sat
from data.glossary import CELLS_PER_PACK, LOCAL_TZ, PACKS_PER_BESS, signal_from_stem

pytestmark = pytest.mark.slow


def read_cell_file(path: Path) -> pl.DataFrame:
    """(day, value) of one exported cell-voltage file, day = local calendar date."""
    head = path.read_bytes()[:256].decode("utf-8-sig", "replace").splitlines()[0]
    semi = ";" in head
    df = pl.read_csv(path, separator=";" if semi else ",", decimal_comma=semi, new_columns=["timestamp", "value"],
                     schema_overrides=[pl.String, pl.Float64], null_values=["", "NaN", "nan", "null", "-"],
                     encoding="utf8-lossy", truncate_ragged_lines=True)
    ts = pl.col("timestamp").str.strip_chars().str.strip_chars("\ufeff")
    with_offset = ts.str.contains(r"(Z|[+-]\d\d:?\d\d)$")
    day = (pl.when(with_offset)
           .then(ts.str.to_datetime(time_zone="UTC", strict=False).dt.convert_time_zone(LOCAL_TZ).dt.date())
           .otherwise(ts.str.slice(0, 10).str.to_date(strict=False)))
    return df.select(day.alias("day"), pl.col("value")).drop_nulls()


def read_sat(system_dir: Path) -> SatMatrix:
    files: dict[tuple[int, int], list[Path]] = {}
    for path in system_dir.glob("bms1_p*_v*.csv"):
        name = signal_from_stem(path.stem, system_dir.name)
        pack, cell = name.removeprefix("bms1_p").split("_v")
        files.setdefault((int(pack), int(cell)), []).append(path)
    assert len(files) == PACKS_PER_BESS * CELLS_PER_PACK
    frames = []
    for (pack, cell), paths in files.items():
        df = pl.concat([read_cell_file(p) for p in sorted(paths)])
        frames.append(df.group_by("day").agg(pl.col("value").max())
                      .with_columns(pl.lit(pack).alias("pack"), pl.lit(cell).alias("cell")))
    long = pl.concat(frames)
    dm = daily_max_from_long(long["pack"].to_numpy(), long["cell"].to_numpy(),
                             long["day"].to_numpy().astype("datetime64[D]"), long["value"].to_numpy())
    return extract_sat(dm.voltage_v, dm.days, dm.packs, dm.cells)


@pytest.fixture(scope="module")
def analyses(demo_dir, demo_truth):
    out = {}
    for sid, truth in demo_truth["bess"].items():
        sat = read_sat(demo_dir / "BESS" / sid)
        out[sid] = (sat, truth, analyze_cells(sat, efc_per_day=truth["equivalent_full_cycles"] / demo_truth["days"]))
    return out


def test_saturation_days_are_the_full_charge_days(analyses):
    for sid, (sat, truth, _) in analyses.items():
        full = set(np.array(truth["full_charge_days"], dtype="datetime64[D]").tolist())
        kept = set(sat.days[sat.saturation_day].tolist())
        assert kept <= full, sid
        assert len(full - kept) <= 0.01 * len(full), sid  # a gateway outage may swallow a peak


MECHANISM_SIGN = {"capacity_fade": 1, "resistance_growth": 1, "self_discharge": -1}


def test_every_drifting_cell_of_both_signs_is_found_with_its_mechanism(analyses):
    signs = set()
    for sid, (sat, truth, a) in analyses.items():
        cells = {(c["pack"], c["cell"]): c for c in truth["cells"]}
        degrading = {f"P{p}C{c}" for p, c in truth["degrading_cells"]}
        drift_alerts = {x.label for x in a.alerts if x.kind.value == "drift_outlier"}
        assert degrading <= drift_alerts, (sid, degrading - drift_alerts)
        # at most 2 false cell alerts of 260 per system (the damaged pack speaks for itself)
        false = {x.label for x in a.alerts if x.cell is not None} - degrading
        assert len(false) <= 2, (sid, false)
        for i, label in enumerate(sat.labels):
            if label not in degrading:
                continue
            c = cells[(int(sat.packs[i]), int(sat.cells[i]))]
            want = MECHANISM_SIGN[c["mechanism"]]
            signs.add(want)
            assert a.drift.cells.mechanism[i].value == ("rising" if want > 0 else "falling"), (sid, label)
    assert signs == {1, -1}  # rising and falling cells both exist and are both found


def test_damaged_pack_event_found(analyses):
    damaged = [(sid, t) for sid, (_, t, _) in analyses.items() if t["pack_event"] is not None]
    assert len(damaged) == 1
    for sid, (_, truth, a) in analyses.items():
        if truth["pack_event"] is None:
            assert a.events == (), sid
            continue
        ev_truth = truth["pack_event"]
        assert [e.pack for e in a.events] == [ev_truth["pack"]]
        ev = a.events[0]
        assert abs(int((ev.day - np.datetime64(ev_truth["day"], "D")).astype(int))) <= 2
        assert abs(ev.step_v - ev_truth["step_vs_other_packs_v"]) <= 0.003


def test_drift_matches_the_truth(analyses):
    """Fast cells within 10 %; every cell within a few uV/day of the written drift against peers."""
    for sid, (sat, truth, a) in analyses.items():
        cells = {(c["pack"], c["cell"]): c for c in truth["cells"]}
        want = np.array([cells[(int(p), int(c))]["drift_whole_v_per_day"] for p, c in zip(sat.packs, sat.cells)])
        got = a.drift.cells.drift_v_per_day
        fast = np.array([cells[(int(p), int(c))]["degrading"] for p, c in zip(sat.packs, sat.cells)])
        assert fast.any()
        assert (np.abs(got[fast] - want[fast]) <= 0.10 * np.abs(want[fast])).all(), sid
        assert np.median(np.abs(got - want)) < 5e-6, sid
