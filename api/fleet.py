"""The fleet view in GraphQL: one row per system, most urgent first (formatting of core.fleet)."""

from __future__ import annotations

import enum

import strawberry

from api.scalars import DateTime
from api.types import num
from core.fleet import FleetRow as CoreRow


@strawberry.enum(description="Order of fleet rows.")
class FleetSort(enum.Enum):
    RISK = strawberry.enum_value("risk", description="Most urgent first: critical findings, warnings, fastest "
                                 "drift, missing data, ingest problems.")
    ID = strawberry.enum_value("id", description="By system id.")


@strawberry.type(description="One system of the fleet at a glance.")
class FleetRow:
    system_id: strawberry.ID = strawberry.field(description="System id.")
    kind: str = strawberry.field(description="meter or bess.")
    coverage: float | None = strawberry.field(description="Share of the last 30 days with data [0..1].")
    last_data: DateTime | None = strawberry.field(description="End of the system's data.")
    critical_cells: int = strawberry.field(description="Cells with a CRITICAL verdict [count].")
    warning_cells: int = strawberry.field(description="Cells with a WARNING verdict [count].")
    ok_cells: int = strawberry.field(description="Cells without alerts [count].")
    critical_pack_alerts: int = strawberry.field(description="CRITICAL pack alerts (step, pack drift, spread) [count].")
    warning_pack_alerts: int = strawberry.field(description="WARNING pack alerts [count].")
    worst_cell: str | None = strawberry.field(description="The cell to look at first, e.g. P2C9.")
    worst_cell_drift_v_per_day: float | None = strawberry.field(
        description="Its drift against peers (SAT minus the system median) [V/day].")
    pack_events: int = strawberry.field(description="Pack events found [count].")
    efc: float | None = strawberry.field(description="Equivalent full cycles over the record [1].")
    soh_pct: float | None = strawberry.field(description="SOH from the data (coulomb counting), else the BMS's [%].")
    soh_bms_pct: float | None = strawberry.field(description="The BMS's own latest SOH [%].")
    problems: int = strawberry.field(description="Files of the system with an ingest problem [count].")

    @classmethod
    def of(cls, r: CoreRow) -> "FleetRow":
        return cls(system_id=strawberry.ID(r.system_id), kind=r.kind, coverage=num(r.coverage), last_data=r.last_data,
                   critical_cells=r.critical_cells, warning_cells=r.warning_cells, ok_cells=r.ok_cells,
                   critical_pack_alerts=r.critical_pack_alerts, warning_pack_alerts=r.warning_pack_alerts,
                   worst_cell=r.worst_cell, worst_cell_drift_v_per_day=num(r.worst_cell_drift_v_per_day),
                   pack_events=r.pack_events, efc=num(r.efc), soh_pct=num(r.soh_pct), soh_bms_pct=num(r.soh_bms_pct),
                   problems=r.problems)
