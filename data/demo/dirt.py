"""Which realistic defects the demo injects, where: gaps, duplicates, disorder, sentinels, formats."""

from __future__ import annotations

from dataclasses import dataclass

from data.demo.config import START_LOCAL, DemoConfig, rng_for
from data.demo.timegrid import local_midnight_utc_s, local_date

Key = tuple[str, str]  # (system or meter id, signal)

SENTINEL = 65535


@dataclass(frozen=True)
class Gap:
    """No rows in [start_s, end_s) for these signals (None: every file of the system)."""

    system_id: str
    signals: tuple[str, ...] | None
    start_s: int
    end_s: int
    reason: str


@dataclass(frozen=True)
class DirtPlan:
    gaps: tuple[Gap, ...]
    duplicates: frozenset[Key]  # a few rows written twice
    out_of_order: frozenset[Key]  # a block of rows written in reverse order
    sentinels: frozenset[Key]  # two readings replaced by 65535
    decimal_comma: frozenset[str]  # systems whose files use ';' and decimal commas
    iso_offset: frozenset[Key]  # timestamps as 2024-03-31T03:15:00+02:00
    bom: frozenset[Key]  # UTF-8 byte-order mark
    monthly_split: frozenset[Key]  # <signal>_YYYY-MM.csv
    part_split: frozenset[Key]  # <stem>.csv + <stem>_part2.csv
    prefixed_meters: frozenset[str]  # meter files named <id>_<signal>.csv


def plan_dirt(cfg: DemoConfig) -> DirtPlan:
    bess = cfg.system_ids  # the dirt lands on the first three BESS and on m1..m6
    rng = rng_for(cfg.seed, "dirt")
    d = cfg.days

    def at(frac: float, hour: int) -> int:
        day = min(d - 1, max(0, int(frac * d) + int(rng.integers(-3, 4))))
        return local_midnight_utc_s(local_date(START_LOCAL, day)) + hour * 3600

    s_meter = at(0.30, 9)
    s_m6 = at(0.62, 6)
    s_bess = at(0.44, 14)
    s_hvac = at(0.80, 3)
    gaps = (
        Gap("m2", None, s_meter, s_meter + 2 * 86_400 + 7 * 3600, "meter offline (modem)"),
        Gap("m6", ("com_ap",), s_m6, s_m6 + 5 * 3600, "power register not polled"),
        Gap(bess[1], None, s_bess, s_bess + 31 * 3600, "site gateway outage"),
        Gap(bess[2], ("ac1_outside_t", "ac1_outwater_t", "ac1_rtnwater_pre"), s_hvac,
            s_hvac + 9 * 3600, "HVAC controller not answering"),
    )
    return DirtPlan(
        gaps=gaps,
        duplicates=frozenset({("m3", "com_ap"), (bess[0], "pcs1_ap")}),
        out_of_order=frozenset({("m4", "pf"), (bess[2], "bms1_soc")}),
        sentinels=frozenset({(bess[2], "bms1_p3_t17")}),
        decimal_comma=frozenset({"m5"}),
        iso_offset=frozenset({("m6", "pf"), ("m6", "pos_ae"), (bess[1], "bms1_soc"),
                              (bess[1], "pcs1_ap"), (bess[1], "bms1_p1_v1")}),
        bom=frozenset({("m2", "pf")}),
        monthly_split=frozenset({(bess[0], "bms1_soc")}),
        part_split=frozenset({("m1", "com_ap")}),
        prefixed_meters=frozenset({"m1", "m2"}) & frozenset(cfg.meter_ids),
    )

