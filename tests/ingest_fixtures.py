"""Small CSV export trees in the real layout, written into tmp_path for the ingest tests."""

from __future__ import annotations

import hashlib
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

BERLIN = ZoneInfo("Europe/Berlin")
BESS_ID = "ZHPESS232A230002"


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


def local_quarter_hours(day: str) -> list[str]:
    """Wall-clock strings of every quarter hour of a local day, in order (DST passes repeat)."""
    naive = datetime.fromisoformat(day)
    t = naive.replace(tzinfo=BERLIN).astimezone(timezone.utc)
    end = (naive + timedelta(days=1)).replace(tzinfo=BERLIN).astimezone(timezone.utc)
    out = []
    while t < end:
        out.append(t.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M:%S"))
        t += timedelta(minutes=15)
    return out


def series_csv(times: list[str], values, header: str = "timestamp,value", sep: str = ",") -> str:
    return header + "\n" + "".join(f"{t}{sep}{v}\n" for t, v in zip(times, values))


def utc_minutes(start: str, n: int, step_min: int) -> list[str]:
    t0 = datetime.fromisoformat(start)
    return [(t0 + timedelta(minutes=step_min * i)).strftime("%Y-%m-%dT%H:%M:%SZ") for i in range(n)]


def make_fleet(root: Path, *, days: int = 3, cells: tuple[int, int] = (2, 3), seed: int = 7) -> Path:
    """A meter (split com_ap export, counter) and a BESS (soc, cell voltages/temps), UTC-stamped."""
    rng = np.random.default_rng(seed)
    n_q = days * 96
    times = utc_minutes("2024-05-01T00:00:00", n_q, 15)
    half = n_q // 2
    power = np.round(rng.normal(5, 2, n_q), 3)
    write(root / "meter" / "m1" / "m1_com_ap_2024-05.csv", series_csv(times[:half], power[:half]))
    write(root / "meter" / "m1" / "m1_com_ap_part2.csv", series_csv(times[half:], power[half:]))
    write(root / "meter" / "m1" / "pos_ae.csv", series_csv(times, np.round(np.cumsum(rng.uniform(0, 2, n_q)), 2)))
    bess = root / "BESS" / BESS_ID
    n_m = days * 288
    t5 = utc_minutes("2024-05-01T00:00:00", n_m, 5)
    write(bess / "bms1_soc.csv", series_csv(t5, np.round(rng.uniform(10, 90, n_m), 1)))
    packs, per_pack = cells
    for p in range(1, packs + 1):
        for c in range(1, per_pack + 1):
            write(bess / f"bms1_p{p}_v{c}.csv", series_csv(t5, np.round(3.3 + rng.normal(0, 0.02, n_m), 3)))
            write(bess / f"bms1_p{p}_t{c}.csv", series_csv(t5, np.round(25 + rng.normal(0, 1, n_m), 1)))
    return root


def tree_state(top: Path) -> dict[str, tuple[int, int, str]]:
    """(size, mtime_ns, sha256) of every file under ``top``: equal states mean no byte changed."""
    out = {}
    for p in sorted(top.rglob("*")):
        if p.is_file():
            st = p.stat()
            out[p.relative_to(top).as_posix()] = (st.st_size, st.st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
    return out


def bump_mtime(path: Path) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
