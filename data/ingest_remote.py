"""`bess ingest` into a store on an object store: lock, mirror the current version, ingest locally, upload, publish.

The ingest itself is the local one (data/ingest.py), run on a local working store that holds
the current version (downloaded once, so unchanged units are checked and reused as today).
Its new version is then uploaded and published (data/publish_remote.py) while the store's
lock object (data/objlock.py) is held, so the result is the same bytes a local ingest writes.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from data.catalog import MANIFEST_FILE, catalog_from_manifest
from data.discover import split_roots
from data.fs import WRITABLE_PROTOCOLS, RemoteStore, StoreURLError
from data.objlock import ObjectLock
from data.publish import clean_leftovers, now_utc, prune_versions, read_current, recover_current
from data.publish_remote import upload_version
from data.report import IngestReport
from data.store import CURRENT_FILE, REPORTS_DIR, VERSIONS_DIR, StoreError

WORK_ENV = "BESS_INGEST_WORK_DIR"  # local working folder of an object-store ingest (default: the temp dir)


def ingest_to_url(roots: list[Path], store: RemoteStore, *, progress: bool = True,
                  allow_removal: bool = False, cluster=None) -> IngestReport:
    """Ingest ``roots`` into the object-store store; never raises for bad input files (as data.ingest.ingest).

    ``cluster`` (data.distributed.ClusterSpec) builds the units on Dask as for a local store; the
    workers write into the local working store, so the workers of an existing cluster must see
    ``BESS_INGEST_WORK_DIR`` (a shared folder).
    """
    from data.ingest import _error_report, ingest  # data.ingest dispatches here

    t0 = time.monotonic()
    started = now_utc()
    base = dict(started_utc=started.strftime("%Y-%m-%dT%H:%M:%SZ"), roots=tuple(map(str, split_roots(list(roots)))),
                store=str(store))
    notes: list[str] = []
    if store.protocol not in WRITABLE_PROTOCOLS:  # refused before anything is written there
        return _error_report(base, t0, None, f"store {store}: writing needs S3's conditional puts; "
                             f"{store.protocol}:// stores can be read, not written")
    with tempfile.TemporaryDirectory(prefix="bess-ingest-", dir=os.environ.get(WORK_ENV) or None) as tmp:
        local = Path(tmp) / "store"
        try:
            with ObjectLock(store) as lock:
                if lock.took_over:
                    notes.append(lock.took_over)
                recovered = recover_current(store)
                if recovered:
                    notes.append(recovered)
                clean_leftovers(store)
                current = read_current(store)
                if current:
                    _mirror(store, current, local)
                report = ingest(roots, local, progress=progress, allow_removal=allow_removal, cluster=cluster)
                if report.published_version and not report.error:
                    version = report.published_version
                    upload_version(store, local / VERSIONS_DIR / version, version, current, lock.check)
                    prune_versions(store)
        except (StoreError, StoreURLError, OSError) as exc:
            why = str(exc) if str(store) in str(exc) else f"store {store}: {exc}"
            report = _error_report(base, t0, _current_or_none(store), why)
    report = replace(report, store=str(store), roots=base["roots"], report_path=None,
                     duration_s=round(time.monotonic() - t0, 3), store_notes=tuple(notes) + report.store_notes)
    try:
        return _save_report(store, report, started.strftime("%Y%m%dT%H%M%SZ"))
    except (OSError, StoreError) as exc:
        print(f"bess ingest: could not save the report in {store}: {exc}", file=sys.stderr)
        return report


def _mirror(store: RemoteStore, version: str, local: Path) -> None:
    """The current version as a local store (manifest and every output it lists), for the local ingest."""
    rel = f"{VERSIONS_DIR}/{version}"
    vdir = local / VERSIONS_DIR / version
    vdir.mkdir(parents=True)
    (local / CURRENT_FILE).write_text(version + "\n", encoding="utf-8")  # new versions are numbered after it
    try:
        raw = store.read_bytes(f"{rel}/{MANIFEST_FILE}")
    except FileNotFoundError:
        return  # no complete version to recover (recover_current): everything is built anew, as on disk
    (vdir / MANIFEST_FILE).write_bytes(raw)
    try:
        outputs = catalog_from_manifest(json.loads(raw), store.key(f"{rel}/{MANIFEST_FILE}")).outputs()
    except (ValueError, KeyError, TypeError, AttributeError):
        outputs = {}  # a damaged manifest: the local ingest rebuilds everything, as it does locally
    names = sorted(outputs)
    present = store.sizes(rel)
    names = [n for n in names if n in present]  # a missing one is rebuilt by the local ingest
    for n in names:
        (vdir / n).parent.mkdir(parents=True, exist_ok=True)
    store.get_files([(f"{rel}/{n}", vdir / n) for n in names])


def _current_or_none(store: RemoteStore) -> str | None:
    try:
        return read_current(store)
    except OSError:
        return None


def _save_report(store: RemoteStore, report: IngestReport, stamp: str) -> IngestReport:
    """reports/ingest-<UTC>.json and reports/latest.json on the object store (as data.report.save_report)."""
    rel = f"{REPORTS_DIR}/ingest-{stamp}.json"
    n = 1
    while store.exists(rel):  # two runs within one second keep both reports
        n += 1
        rel = f"{REPORTS_DIR}/ingest-{stamp}-{n}.json"
    report = replace(report, report_path=store.key(rel))
    data = (json.dumps(report.to_json(), indent=1, ensure_ascii=False) + "\n").encode()
    store.write_bytes(rel, data)
    store.write_bytes(f"{REPORTS_DIR}/latest.json", data)
    return report
