"""Bad input: the corpus of tests/reliability_corpus.py is ingested in one run; nothing crashes,
every problem names its file and reason, and the clean data is exactly what a clean-only ingest gives."""

from __future__ import annotations

import ctypes
import os


import subprocess
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from core.service import QueryService
from data.ingest import ingest
from data.manifest import units_of
from data.store import open_snapshot

sys.path.insert(0, str(Path(__file__).parent))
from reliability_corpus import (  # noqa: E402
    CASES, CLEAN_BESS, CLEAN_METER, Case, counter_with_drop, write_clean, write_corpus,
)

REPO = Path(__file__).resolve().parents[1]
BESS = REPO / ".venv" / "bin" / "bess"
OUTCOMES = {"rows", "counted", "partial", "fatal", "refused"}
REPORTED = ("partial", "fatal", "refused")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """(export root, store, report) of one ingest over the clean fleet plus every case."""
    base = tmp_path_factory.mktemp("corpus")
    root = base / "exports"
    write_corpus(root)
    store = base / "store"
    report = ingest([root], store, progress=False)
    return root, store, report


@pytest.fixture(scope="module")
def clean_only(tmp_path_factory):
    base = tmp_path_factory.mktemp("clean")
    write_clean(base / "exports")
    report = ingest([base / "exports"], base / "store", progress=False)
    assert report.error is None and report.published_version
    return base / "store"


def _sources(store: Path) -> dict[str, object]:
    """Every source record of the published manifest, by the file's path relative to nothing (abs)."""
    snap = open_snapshot(store)
    return {s.path: s for rec in units_of(snap.manifest()).values() for s in rec.sources}


def _case_path(root: Path, case: Case) -> str:
    return str((root / (case.reported_at or case.relpath)).resolve())


def test_corpus_table_is_large_and_every_case_has_an_expected_outcome():
    assert len(CASES) >= 25
    assert len({c.name for c in CASES}) == len(CASES)
    for c in CASES:
        assert c.outcome in OUTCOMES, c.name
        assert c.rows_kept is not None, c.name
        if c.outcome in REPORTED:
            assert c.reason, f"{c.name}: a reported case needs the reason it must give"


def test_ingest_of_the_whole_corpus_publishes_and_reports_no_store_error(corpus):
    root, store, report = corpus
    assert report.error is None
    assert report.published_version is not None
    assert report.exit_code == 0
    assert report.report_path and Path(report.report_path).is_file()
    assert "\n" in report.format_text()  # the text summary renders with every issue


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_gives_its_expected_outcome(corpus, case: Case):
    root, store, report = corpus
    _check_case(root, store, report, case)


def test_non_finite_values_never_reach_the_store(corpus):
    assert _raw(corpus[1], "c_inf")["value"].to_list() == [1.0, 2.0]


def _check_case(root: Path, store: Path, report, case: Case) -> None:
    path = _case_path(root, case)
    if case.name == "symlink_loop":
        path = str((root / case.relpath / "com_ap.csv").resolve())
    src = _sources(store).get(path)
    issues = [i for i in report.file_issues if i.path == path]
    if case.outcome == "refused":  # never read: reported, and absent from the manifest
        assert src is None, case.name
        assert len(issues) == 1 and issues[0].fatal, (case.name, issues)
        assert case.reason in issues[0].reason.lower(), (case.name, issues[0].reason)
        return
    assert src is not None, f"{case.name}: {path} not recorded in the manifest"
    assert src.rows_kept == case.rows_kept, (case.name, src.rows_kept, src.dropped, src.problems)
    assert dict(src.dropped) == case.dropped, (case.name, src.dropped)
    if case.outcome in ("rows", "counted"):
        assert issues == [], (case.name, issues)
        assert src.fatal is None
    elif case.outcome == "partial":
        assert len(issues) == 1 and not issues[0].fatal, (case.name, issues)
        assert case.reason in issues[0].reason.lower(), (case.name, issues[0].reason)
    else:
        assert len(issues) == 1 and issues[0].fatal, (case.name, issues)
        assert case.reason in issues[0].reason.lower(), (case.name, issues[0].reason)
        assert src.fatal


def test_every_reported_problem_names_an_existing_corpus_file_and_a_reason(corpus):
    root, _, report = corpus
    expected = {_case_path(root, c) for c in CASES if c.outcome in REPORTED}
    reported = {i.path for i in report.file_issues}
    assert reported == expected
    for i in report.file_issues:
        assert Path(i.path).exists() and i.reason.strip()
        assert i.path in report.format_text()


def test_clean_data_is_identical_to_an_ingest_of_the_clean_files_only(corpus, clean_only):
    """Bad files beside and around the clean ones change none of the clean outputs, byte for byte."""
    _, store, _ = corpus
    dirty, clean = open_snapshot(store), open_snapshot(clean_only)
    clean_units = units_of(clean.manifest())
    dirty_units = units_of(dirty.manifest())
    assert {sid for sid, _ in clean_units} == {CLEAN_METER, CLEAN_BESS}
    assert len(clean_units) == 7  # 4 meter signals; SOC, PCS power, cell_v
    for key, rec in clean_units.items():
        other = dirty_units[key]
        assert other.rows == rec.rows and other.dropped == rec.dropped, key
        assert set(other.outputs) == set(rec.outputs), key
        for level, w in rec.outputs.items():
            a = pl.read_parquet(clean.path / w.relpath)
            b = pl.read_parquet(dirty.path / other.outputs[level].relpath)
            assert a.equals(b), (key, level)
    # the bad neighbours in the clean systems are recorded, with no output
    assert dirty_units[(CLEAN_METER, "garbage_ap")].outputs == {}
    assert dirty_units[(CLEAN_BESS, "bms1_soh")].outputs == {}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_corpus_file_beside_good_data_never_stops_the_good_data_from_being_published(tmp_path, clean_only,
                                                                                          case: Case):
    """One bad file with the clean fleet: the ingest publishes, and the clean data is what a clean-only ingest gives."""
    root = tmp_path / "exports"
    write_clean(root)
    case.make(root / case.relpath)
    if case.name == "cell_two_spellings_other":
        next(c for c in CASES if c.name == "cell_two_spellings").make(root / "BESS/c_spell/bms1_p01_v001.csv")
    report = ingest([root], tmp_path / "store", progress=False)
    assert report.error is None and report.published_version, (case.name, report.error)
    dirty = units_of(open_snapshot(tmp_path / "store").manifest())
    clean = units_of(open_snapshot(clean_only).manifest())
    for key, rec in clean.items():
        assert dirty[key].rows == rec.rows, (case.name, key)
        assert {lvl: w.sha256 for lvl, w in dirty[key].outputs.items()} == \
            {lvl: w.sha256 for lvl, w in rec.outputs.items()}, (case.name, key)


def test_query_service_serves_every_system_of_the_corpus(corpus):
    _, store, _ = corpus
    svc = QueryService(store)
    ids = {s.id for s in svc.systems()}
    for c in CASES:
        if c.rows_kept:
            assert c.system in ids, c.name
            info = svc.system(c.system)
            sig = next(s.name for s in info.signals) if info.signals else None
            if sig:
                s = svc.series(c.system, sig, max_points=500, method="none")
                assert s.values.size and np.isfinite(s.values[~np.isnan(s.values)]).all()
    assert "Zähler_Süd" in ids and "c_电表" in ids


def _raw(store: Path, sid: str, signal: str = "com_ap") -> pl.DataFrame:
    return open_snapshot(store).read_range(sid, "raw", signal)


def _utc(*a) -> datetime:
    return datetime(*a, tzinfo=timezone.utc)


def test_dst_spring_forward_keeps_a_regular_utc_grid(corpus):
    df = _raw(corpus[1], "c_dst_spring")
    assert df["ts"].to_list() == [_utc(2024, 3, 31, 0, 30), _utc(2024, 3, 31, 0, 45), _utc(2024, 3, 31, 1, 0),
                                  _utc(2024, 3, 31, 1, 15), _utc(2024, 3, 31, 1, 30)]
    assert df["value"].to_list() == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_dst_gap_time_is_shifted_forward_not_lost(corpus):
    df = _raw(corpus[1], "c_dst_gap")
    assert df["ts"].to_list() == [_utc(2024, 3, 31, 0, 45), _utc(2024, 3, 31, 1, 15), _utc(2024, 3, 31, 1, 30)]


def test_dst_autumn_repeated_hour_gives_distinct_instants_in_file_order(corpus):
    df = _raw(corpus[1], "c_dst_autumn")
    ts = df["ts"].dt.epoch("ms").to_numpy()
    assert df.height == 11
    assert ts[0] == int(_utc(2024, 10, 26, 23, 30).timestamp() * 1000)
    assert (np.diff(ts) == 15 * 60 * 1000).all()
    assert df["value"].to_list() == [float(i) for i in range(11)]  # no row lost, none swapped


@pytest.mark.parametrize("kind", ["reset", "wrap16", "wrap23", "wrap32"])
def test_counter_reset_and_wrap_give_no_negative_and_no_spike(corpus, kind):
    """The store keeps the snapshots as read; daily energy and KPIs count 1.5 kWh per step throughout."""
    store = corpus[1]
    sid = f"c_{kind}"
    raw = _raw(store, sid, "pos_ae")
    np.testing.assert_allclose(raw["value"].to_numpy(), np.round(counter_with_drop(kind), 3))
    svc = QueryService(store)
    daily = svc.daily_energy(sid)
    assert daily.days == ("2024-02-01", "2024-02-02")
    assert (daily.import_kwh >= 0).all()
    # 96 steps of 1.5 kWh per day, booked by their start: day 1 runs from its 00:00 snapshot to
    # day 2's 00:00 one (96 intervals); day 2's last snapshot (23:45) closes no interval, so day 2
    # has 95 intervals and is partial
    np.testing.assert_allclose(daily.import_kwh, [96 * 1.5, 95 * 1.5], rtol=0, atol=1e-6)
    np.testing.assert_allclose(daily.export_kwh, [0.0, 0.0], atol=1e-9)
    assert daily.partial.tolist() == [False, True]
    k = svc.kpis(sid)
    assert k.import_kwh == pytest.approx(191 * 1.5, abs=1e-6)


def test_sentinels_never_reach_the_store(corpus):
    store = corpus[1]
    assert _raw(store, "c_sentinel")["value"].to_list() == [1.5, 2.5]
    cells = open_snapshot(store).read_range("c_cellsent", "raw", "cell_v")
    assert cells["value"].to_list() == [3.31, 3.32]
    assert _raw(store, "c_ctr65535", "pos_ae")["value"].to_list() == [65534.0, 65535.0, 65536.5]


def test_german_and_decimal_comma_values_are_read_as_numbers(corpus):
    store = corpus[1]
    assert _raw(store, "c_german")["value"].to_list() == [i + 0.75 for i in range(10)]
    assert _raw(store, "c_semicolon")["value"].to_list() == [i + 0.25 for i in range(10)]
    assert _raw(store, "c_latin1")["value"].to_list() == [i + 0.5 for i in range(10)]


def test_duplicate_rule_last_row_in_file_order_wins(corpus):
    store = corpus[1]
    snap = open_snapshot(store)
    units = units_of(snap.manifest())
    assert units[("c_dupx", "com_ap")].rows == 5 and units[("c_dupx", "com_ap")].dropped == {"duplicate_exact": 2}
    assert units[("c_dupc", "com_ap")].dropped == {"duplicate_conflict": 1}
    assert _raw(store, "c_dupc")["value"].to_list()[1] == 99.0
    assert units[("c_split", "com_ap")].rows == 10  # monthly parts merged into one signal


def test_large_file_keeps_everything_but_its_one_bad_last_row(corpus):
    from reliability_corpus import LARGE_ROWS

    df = _raw(corpus[1], "c_large")
    assert df.height == LARGE_ROWS - 1
    assert df["ts"].is_sorted() and df["ts"].n_unique() == df.height


def test_rerun_on_the_same_corpus_changes_nothing(corpus):
    root, store, report = corpus
    before = open_snapshot(store)
    again = ingest([root], store, progress=False)
    assert again.error is None and again.published_version is None
    assert again.current_version == before.version == open_snapshot(store).version
    assert {(i.path, i.reason, i.fatal) for i in again.file_issues} == \
        {(i.path, i.reason, i.fatal) for i in report.file_issues}


# -- files the process cannot read ------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)
_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH = 1, 2


def _drop_file_read_capabilities() -> None:
    """preexec_fn: as root, drop the capabilities that let root read a chmod-000 file."""
    for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if _libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _small_meter(root: Path, sid: str = "m1") -> Path:
    d = root / "meter" / sid
    d.mkdir(parents=True)
    (d / "com_ap.csv").write_text("timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:15:00,2\n")
    return d


def test_unreadable_file_is_reported_and_the_rest_ingested(tmp_path):
    """chmod 000 on a file; when we are root the subprocess drops CAP_DAC_OVERRIDE so 000 means 000."""
    d = _small_meter(tmp_path / "ex")
    secret = d / "pf.csv"
    secret.write_text("timestamp,value\n2024-01-01 00:00:00,0.9\n")
    secret.chmod(0)
    preexec = _drop_file_read_capabilities if os.geteuid() == 0 else None
    probe = subprocess.run(["cat", str(secret)], preexec_fn=preexec, capture_output=True)
    if probe.returncode == 0:
        pytest.skip("cannot make a file unreadable here (capabilities cannot be dropped)")
    r = subprocess.run([str(BESS), "ingest", str(tmp_path / "ex"), "--store", str(tmp_path / "store"), "--quiet"],
                       preexec_fn=preexec, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert f"{secret}: not readable" in r.stdout
    assert open_snapshot(tmp_path / "store").read_range("m1", "raw", "com_ap").height == 2


def test_fifo_named_like_a_csv_does_not_hang_the_ingest(tmp_path):
    d = _small_meter(tmp_path / "ex")
    os.mkfifo(d / "pf.csv")
    box: dict = {}
    t = threading.Thread(target=lambda: box.update(r=ingest([tmp_path / "ex"], tmp_path / "store", progress=False)),
                         daemon=True)
    t.start()
    t.join(timeout=120)
    assert not t.is_alive(), "ingest blocked on a FIFO"
    assert box["r"].error is None and box["r"].files_ingested == 1


def test_dangling_symlink_named_like_a_csv_is_reported(tmp_path):
    d = _small_meter(tmp_path / "ex")
    os.symlink(tmp_path / "gone.csv", d / "pos_ae.csv")  # the export it pointed to was moved away
    report = ingest([tmp_path / "ex"], tmp_path / "store", progress=False)
    assert report.error is None and report.files_ingested == 1
    assert [i.path for i in report.file_issues] == [str(d / "pos_ae.csv")]


def test_fifo_named_like_a_csv_is_reported(tmp_path):
    d = _small_meter(tmp_path / "ex")
    os.mkfifo(d / "pf.csv")
    report = ingest([tmp_path / "ex"], tmp_path / "store", progress=False)
    assert str(d / "pf.csv") in {i.path for i in report.file_issues}


def test_folder_named_like_a_csv_is_walked_not_read(tmp_path):
    d = _small_meter(tmp_path / "ex")
    (d / "neg_ae.csv").mkdir()
    report = ingest([tmp_path / "ex"], tmp_path / "store", progress=False)
    assert report.error is None and report.files_seen == 1 and report.files_ingested == 1


def test_missing_root_is_a_clear_error_and_leaves_the_store_as_it_was(tmp_path):
    _small_meter(tmp_path / "ex")
    first = ingest([tmp_path / "ex"], tmp_path / "store", progress=False)
    r = ingest([tmp_path / "ex", tmp_path / "nope"], tmp_path / "store", progress=False)
    assert r.exit_code == 2 and "nope" in r.error and "does not exist" in r.error
    assert open_snapshot(tmp_path / "store").version == first.published_version


def test_cli_exit_code_is_non_zero_when_nothing_could_be_ingested(tmp_path):
    d = tmp_path / "ex" / "meter" / "m1"
    d.mkdir(parents=True)
    (d / "com_ap.csv").write_bytes(b"")
    r = subprocess.run([str(BESS), "ingest", str(tmp_path / "ex"), "--store", str(tmp_path / "store"), "--quiet"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 1
    assert "com_ap.csv: empty file" in r.stdout
    assert not (tmp_path / "store" / "CURRENT").exists()





# -- issue 13: formats users have, names, numbers -----------------------------------------------

def test_two_spellings_of_one_cell_are_one_cell(corpus):
    """p01_v001 and p1_v1 are the same cell: 6 rows, not 12, and one cell, not two."""
    cells = open_snapshot(corpus[1]).read_range("c_spell", "raw", "cell_v")
    assert cells.select("pack", "cell").unique().rows() == [(1, 1)]
    assert cells.height == 6
    assert units_of(open_snapshot(corpus[1]).manifest())[("c_spell", "cell_v")].dropped == {"duplicate_exact": 6}


def test_refused_names_never_reach_the_store(corpus):
    from reliability_corpus import XSS

    snap = open_snapshot(corpus[1])
    units = units_of(snap.manifest())
    assert XSS not in {sid for sid, _ in units}
    assert not any("<" in name or len(name) > 100 for _, name in units)
    for sid in ("c_p40000", "c_pack0", "c_cell0"):
        assert (sid, "cell_v") not in units


def test_decimal_comma_file_reads_dots_as_thousands(corpus):
    assert _raw(corpus[1], "c_thousands")["value"].to_list() == [2000.0, 1500.0, 1234.5, 3.5, -1000.25]
    assert _raw(corpus[1], "c_contra")["value"].to_list() == [1.5, 2.25, 3.75, 5.5]


def test_compressed_cr_only_and_headerless_files_are_read_completely(corpus):
    from reliability_corpus import _series

    def expect(n):
        return [float(r.rsplit(",", 1)[1]) for r in _series(n)]

    assert _raw(corpus[1], "c_gzip")["value"].to_list() == expect(9)
    assert _raw(corpus[1], "c_zip")["value"].to_list() == expect(7)
    assert _raw(corpus[1], "c_cr")["value"].to_list() == expect(8)
    assert _raw(corpus[1], "c_nohead")["value"].to_list() == expect(6)  # the first row too


def test_huge_finite_values_stay_finite_in_every_level(corpus):
    snap = open_snapshot(corpus[1])
    for level in ("5min", "15min", "1h", "1d"):
        df = snap.read_range("c_huge", level, "com_ap")
        assert df.height == 1, level
        assert df["value"].to_list() == [1.7e308] and df["max"].to_list() == [1.7e308], level


def test_implausible_times_are_dropped_and_daily_levels_stay_in_the_window(corpus):
    snap = open_snapshot(corpus[1])
    for sid in ("c_year0", "c_1900"):
        days = snap.read_range(sid, "1d", "com_ap")["ts"]
        assert days.min().year == 2024 and days.max().year == 2024, sid
    svc = QueryService(corpus[1])
    for sid in ("c_year0", "c_1900"):
        tr = svc.system(sid).time_range  # the system's range no longer spans centuries
        assert tr.start.year == 2024 and tr.end.year == 2024, sid
        days = svc.series(sid, "com_ap", resolution="1d", method="none")
        assert days.values.size == 1 and np.isfinite(days.values).all(), sid


# -- issue 13: a re-ingest never removes data it could not read ----------------------------------

def _ingest_without_read_capability(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    preexec = _drop_file_read_capabilities if os.geteuid() == 0 else None
    return subprocess.run([str(BESS), "ingest", str(tmp_path / "ex"), "--store", str(tmp_path / "store"), "--quiet",
                           *extra], preexec_fn=preexec, capture_output=True, text=True, timeout=300)


def _can_make_unreadable(path: Path) -> bool:
    preexec = _drop_file_read_capabilities if os.geteuid() == 0 else None
    return subprocess.run(["cat" if path.is_file() else "ls", str(path)], preexec_fn=preexec,
                          capture_output=True).returncode != 0


@pytest.mark.parametrize("what", ["folder", "file"])
def test_unreadable_source_keeps_its_last_good_data_and_is_reported(tmp_path, what):
    d = _small_meter(tmp_path / "ex")
    other = _small_meter(tmp_path / "ex", "m2")
    (d / "pf.csv").write_text("timestamp,value\n2024-01-01 00:00:00,0.9\n")
    first = ingest([tmp_path / "ex"], tmp_path / "store", progress=False)
    assert first.published_version
    target = d if what == "folder" else d / "pf.csv"
    (other / "com_ap.csv").write_text("timestamp,value\n2024-01-01 00:00:00,5\n")  # a real change elsewhere
    target.chmod(0)
    try:
        if not _can_make_unreadable(target):
            pytest.skip("cannot make a path unreadable here (capabilities cannot be dropped)")
        r = _ingest_without_read_capability(tmp_path)
    finally:
        target.chmod(0o755)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"{target}: " in r.stdout and "last good data" in r.stdout, r.stdout
    snap = open_snapshot(tmp_path / "store")
    assert snap.version != first.published_version  # m2 changed and was published
    assert snap.read_range("m1", "raw", "pf")["value"].to_list() == [0.9]
    if what == "folder":
        assert snap.read_range("m1", "raw", "com_ap").height == 2
    assert snap.read_range("m2", "raw", "com_ap")["value"].to_list() == [5.0]


def test_empty_root_is_an_error_unless_removal_is_allowed(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    _small_meter(a, "m1")
    _small_meter(b, "m2")
    first = ingest([a, b], tmp_path / "store", progress=False)
    for p in sorted(b.rglob("*"), reverse=True):  # the share is not mounted: an empty folder
        p.unlink() if p.is_file() else p.rmdir()
    r = ingest([a, b], tmp_path / "store", progress=False)
    assert r.exit_code == 2 and str(b) in r.error and "no csv file" in r.error.lower()
    assert "--allow-removal" in r.error
    assert open_snapshot(tmp_path / "store").version == first.published_version
    r = ingest([a, b], tmp_path / "store", progress=False, allow_removal=True)
    assert r.exit_code == 0 and r.units_removed == ("m2/com_ap",)
    assert "removed (no longer in the input): m2/com_ap" in r.format_text()
    assert {sid for sid, _ in units_of(open_snapshot(tmp_path / "store").manifest())} == {"m1"}


def test_missing_root_is_allowed_only_with_the_removal_flag(tmp_path):
    _small_meter(tmp_path / "a", "m1")
    _small_meter(tmp_path / "b", "m2")
    ingest([tmp_path / "a", tmp_path / "b"], tmp_path / "store", progress=False)
    gone = tmp_path / "b"
    for p in sorted(gone.rglob("*"), reverse=True):
        p.unlink() if p.is_file() else p.rmdir()
    gone.rmdir()
    r = subprocess.run([str(BESS), "ingest", f"{tmp_path / 'a'},{gone}", "--store", str(tmp_path / "store"),
                        "--quiet", "--allow-removal"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"export root {gone} (does not exist) skipped" in r.stdout
    assert "m2/com_ap" in r.stdout


def test_a_signal_is_removed_only_when_its_files_are_gone_and_the_report_lists_it(tmp_path):
    d = _small_meter(tmp_path / "ex")
    (d / "pf.csv").write_text("timestamp,value\n2024-01-01 00:00:00,0.9\n")
    ingest([tmp_path / "ex"], tmp_path / "store", progress=False)
    (d / "pf.csv").unlink()
    os.symlink(tmp_path / "elsewhere" / "pf.csv", d / "pf.csv")  # present but dangling: not read, not removed
    r = ingest([tmp_path / "ex"], tmp_path / "store", progress=False)
    assert r.units_removed == () and any(k.startswith("m1/pf:") for k in r.units_kept), r.units_kept
    assert f"{d / 'pf.csv'}: broken symbolic link" in r.format_text()
    assert open_snapshot(tmp_path / "store").read_range("m1", "raw", "pf").height == 1
    (d / "pf.csv").unlink()  # now really gone
    r = ingest([tmp_path / "ex"], tmp_path / "store", progress=False)
    assert r.units_removed == ("m1/pf",) and r.published_version
    assert not open_snapshot(tmp_path / "store").has("m1", "raw", "pf")
