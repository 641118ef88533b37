"""The fleet at a glance: one row per system, ranked by risk (what needs attention first).

Risk order (most urgent first), a tuple compared left to right:

1. critical findings: cells with a CRITICAL verdict plus CRITICAL pack alerts (step, pack
   drift, spread);
2. warnings: cells with a WARNING verdict plus WARNING pack alerts;
3. the fastest own drift of any cell [V/day], in magnitude;
4. missing data: 1 - coverage of the last 30 days (a silent system is a risk too);
5. ingest problems of its files.

Meters have no cells: only 4 and 5 rank them, after every BESS with a finding.

Each row is independent of the others, so with a Dask cluster configured ($BESS_SCHEDULER, or
``bess serve --scheduler``) every system's row is a Dask task on the cluster's workers, each
reading the one store version the request pinned; without one they are computed in process.
The service caches the ranked result per store version (QueryService.fleet).
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from core.cells.alerts import Severity
from core.cells.analysis import CellAnalysis

COVERAGE_DAYS = 30
SCHEDULER_ENV = "BESS_SCHEDULER"
"""Address of a running Dask scheduler (tcp://HOST:PORT) that computes fleet rows; unset: in process."""
CONNECT_TIMEOUT_S = 10

log = logging.getLogger("bess.fleet")


@dataclass(frozen=True)
class FleetRow:
    system_id: str
    kind: str
    """"meter" or "bess"."""
    coverage: float | None
    """Share of the last 30 local days (up to the system's last data) with any data (0..1); None without data. [1]"""
    last_data: datetime | None
    """End of the system's data (UTC)."""
    critical_cells: int
    warning_cells: int
    ok_cells: int
    critical_pack_alerts: int
    warning_pack_alerts: int
    worst_cell: str | None
    """Cell with the fastest significant own drift, else the largest |drift| against peers, e.g. P2C9."""
    worst_cell_drift_v_per_day: float | None
    """That cell's drift against peers (SAT minus the system median). [V/day]"""
    pack_events: int
    efc: float | None
    """Equivalent full cycles over the record; None when unknown. [1]"""
    soh_pct: float | None
    """State of health from the data (capacity by coulomb counting), else the BMS's latest; None
    without either. [%]"""
    soh_bms_pct: float | None
    """The BMS's own latest SOH, for comparison. [%]"""
    problems: int
    """Files of the system the last ingest reported a problem for."""

    @property
    def risk(self) -> tuple[int, int, float, float, int]:
        """The sort key of the module docstring; larger is more urgent."""
        drift = abs(self.worst_cell_drift_v_per_day) if self.worst_cell_drift_v_per_day is not None else 0.0
        missing = 1.0 - self.coverage if self.coverage is not None else 1.0
        return (self.critical_cells + self.critical_pack_alerts, self.warning_cells + self.warning_pack_alerts,
                drift, missing, self.problems)


def cell_counts(a: CellAnalysis) -> dict[str, object]:
    """Severity counts, worst cell and events of one BESS from its cell analysis."""
    sev = [v.severity for v in a.verdicts]
    crit = sum(s is Severity.CRITICAL for s in sev)
    warn = sum(s is Severity.WARNING for s in sev)
    packs = [al for al in a.alerts if al.cell is None]
    c = a.drift.cells
    own = np.abs(np.asarray(c.own_drift_v_per_day, dtype=np.float64))
    worst = None
    flagged = [i for i, v in enumerate(a.verdicts) if v.severity is not None and np.isfinite(own[i])]
    pool = flagged or [i for i in range(c.n_cells) if np.isfinite(c.drift_v_per_day[i])]
    if pool:
        key = own if flagged else np.abs(np.asarray(c.drift_v_per_day, dtype=np.float64))
        worst = max(pool, key=lambda i: key[i])
    return dict(critical_cells=crit, warning_cells=warn, ok_cells=len(sev) - crit - warn,
                critical_pack_alerts=sum(al.severity is Severity.CRITICAL for al in packs),
                warning_pack_alerts=sum(al.severity is Severity.WARNING for al in packs),
                worst_cell=None if worst is None else c.labels[worst],
                worst_cell_drift_v_per_day=None if worst is None else float(c.drift_v_per_day[worst]),
                pack_events=len(a.events))


def coverage_of(day_has_data: np.ndarray) -> float | None:
    """Share of the last `COVERAGE_DAYS` entries that are True; None for an empty record."""
    d = np.asarray(day_has_data, dtype=bool)[-COVERAGE_DAYS:]
    return float(d.mean()) if d.size else None


def rank_fleet(rows: list[FleetRow]) -> list[FleetRow]:
    """Most urgent first (module docstring); ties keep the system id order."""
    return sorted(sorted(rows, key=lambda r: r.system_id), key=lambda r: r.risk, reverse=True)


def _finite(x: float | None) -> float | None:
    return float(x) if x is not None and np.isfinite(x) else None


def daily_presence(snap, info) -> np.ndarray:  # noqa: ANN001
    """bool per local day of the system's 1d level with any row, for its main signal (the first that
    exists of SOC, meter power, cell voltages, else any signal)."""
    names = [s.name for s in info.signals]
    for name in ("bms1_soc", "com_ap", "cell_v", *names):
        if snap.has(info.id, "1d", name):
            df = snap.read_range(info.id, "1d", name, None, None, columns=["ts"])
            if df.height == 0:
                return np.zeros(0, dtype=bool)
            days = df["ts"].dt.epoch("s").to_numpy() // 86_400
            span = np.arange(days.min(), days.max() + 1)
            return np.isin(span, days)
    return np.zeros(0, dtype=bool)


def system_row(service, system_id: str) -> FleetRow:  # noqa: ANN001
    """The fleet row of one system, from the query service's numbers (its pinned version)."""
    snap = service.snapshot()
    info = service.system(system_id)
    entry = snap.catalog().system(system_id)
    problems = len(entry.problems) if entry is not None else 0
    base = dict(system_id=info.id, kind=info.kind.value, coverage=coverage_of(daily_presence(snap, info)),
                last_data=info.time_range.end if info.time_range else None, problems=problems)
    if info.kind.value != "bess":
        return FleetRow(**base, critical_cells=0, warning_cells=0, ok_cells=0, critical_pack_alerts=0,
                        warning_pack_alerts=0, worst_cell=None, worst_cell_drift_v_per_day=None,
                        pack_events=0, efc=None, soh_pct=None, soh_bms_pct=None)
    counts = dict(critical_cells=0, warning_cells=0, ok_cells=0, critical_pack_alerts=0, warning_pack_alerts=0,
                  worst_cell=None, worst_cell_drift_v_per_day=None, pack_events=0)
    efc = soh = soh_bms = None
    # a BESS without cell files or counters still gets its row; what is missing stays None
    try:
        counts = cell_counts(service.cell_analysis(info.id))
    except (LookupError, ValueError):
        pass
    try:
        efc = _finite(service.cycles(info.id).equivalent_full_cycles)
    except (LookupError, ValueError):
        pass
    try:
        cap = service.capacity(info.id)
        soh, soh_bms = _finite(cap.soh_pct), _finite(cap.bms_soh_pct)
    except (LookupError, ValueError):
        pass
    return FleetRow(**base, **counts, efc=efc, soh_pct=soh if soh is not None else soh_bms, soh_bms_pct=soh_bms)


def _row_task(snap, system_id: str) -> FleetRow:  # noqa: ANN001
    """One Dask task: the row of one system of the store version ``snap`` (a data.store.Snapshot)."""
    from core.service import QueryService  # the service imports this module

    return system_row(QueryService(snap.root).pinned(snap), system_id)


_CLIENTS: dict[str, object] = {}
_CLIENTS_LOCK = threading.Lock()


def dask_client(scheduler):  # noqa: ANN001, ANN201
    """A distributed.Client for ``scheduler`` (an address, or a Client, returned as is); one per address
    and process, made on first use."""
    if not isinstance(scheduler, str):
        return scheduler
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(scheduler)
        if client is None or client.status not in ("running", "connecting"):
            from distributed import Client

            client = Client(scheduler, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
            _CLIENTS[scheduler] = client
        return client


def scheduler_from_env() -> str | None:
    return os.environ.get(SCHEDULER_ENV, "").strip() or None


def fleet_rows(service, scheduler=None) -> list[FleetRow]:  # noqa: ANN001
    """One row per system of the service's store version, ranked (the query service's numbers only).

    ``scheduler`` (a Dask scheduler address or distributed.Client; default $BESS_SCHEDULER) computes
    the rows as Dask tasks, one per system; unset, they are computed here. A cluster that cannot be
    reached is logged and the rows are computed here: the answer is the same, only slower.
    """
    snap = service.snapshot()
    ids = [info.id for info in service.systems()]
    scheduler = scheduler if scheduler is not None else scheduler_from_env()
    if scheduler is not None and ids:
        try:
            client = dask_client(scheduler)
        except (OSError, TimeoutError) as exc:
            log.warning("Dask scheduler %s not reachable (%s); fleet rows computed in process", scheduler, exc)
        else:
            # pure=False: a task per system and call; the snapshot pins every task to one version
            futures = client.map(_row_task, [snap] * len(ids), ids, pure=False)
            return rank_fleet(client.gather(futures))
    return rank_fleet([system_row(service, sid) for sid in ids])
