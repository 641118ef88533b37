"""`bess info`: a summary of the published store, read from its manifest only (fast)."""

from __future__ import annotations

import os
from datetime import datetime
from zoneinfo import ZoneInfo

from data.glossary import LEVELS, LOCAL_TZ
from data.store import ManifestError, open_snapshot

_TZ = ZoneInfo(LOCAL_TZ)


def describe_store(store: str | os.PathLike | None) -> str:
    """Systems (kind), their signals with levels, local time ranges and row counts.

    A damaged manifest (not JSON, or JSON of the wrong shape) is a StoreError, never a traceback.
    """
    snap = open_snapshot(store)
    try:
        return _describe(snap)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        if isinstance(exc, ManifestError):
            raise
        raise ManifestError(f"manifest {snap.where('manifest.json')} is damaged ({type(exc).__name__}: {exc}); "
                            "run 'bess ingest' to rebuild the store") from None


def _describe(snap) -> str:
    cat = snap.catalog()
    lines = [f"store {snap.root}  version {snap.version}  (created {cat.created_utc or '?'}, "
             f"{len(cat.systems)} systems; times in {LOCAL_TZ})"]
    for sd in cat.systems:
        lines.append(f"{sd.id} ({sd.kind.value}): {len(sd.units)} signal(s)  [{sd.folder}]")
        for name, ud in sd.units.items():
            outs = ud.outputs
            raw = outs.get("raw")
            if raw is None:
                lines.append(f"  {name:<20} no data ({len(ud.sources)} file(s) unreadable)")
                continue
            unit = f" {ud.unit}" if ud.unit else ""
            span = f"{_local(raw.ts_min)} .. {_local(raw.ts_max)}"
            counts = " ".join(f"{lvl} {outs[lvl].rows:,}" for lvl in LEVELS if lvl in outs)
            cells = len({s.signal for s in ud.sources})
            extra = f", {cells} cells" if ud.cell_group else ""
            lines.append(f"  {name:<20} [{ud.aggregation}{unit}{extra}]  {span}  rows: {counts}")
    return "\n".join(lines)


def _local(iso_utc: str | None) -> str:
    if not iso_utc:
        return "?"
    t = datetime.fromisoformat(iso_utc.replace("Z", "+00:00")).astimezone(_TZ)
    return t.strftime("%Y-%m-%d %H:%M %Z")
