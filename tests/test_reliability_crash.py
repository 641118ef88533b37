"""Crash and disk faults: SIGKILL at seeded random moments, a full disk, a file-size limit, corrupted Parquet.

Every check compares store *content*: the (system, unit, level) -> sha256 map of the manifest,
with verify_snapshot proving the files on disk match it, and Snapshot reads for the data itself.
"""

from __future__ import annotations

import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from core.service import QueryService
from data.ingest import ingest
from data.manifest import units_of
from data.store import STAGING_DIR, VERSIONS_DIR, open_snapshot
from data.verify import verify_snapshot

sys.path.insert(0, str(Path(__file__).parent))
from reliability_corpus import CLEAN_BESS, CLEAN_METER, change_inputs, write_clean, write_inputs  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SEED = 5
KILL_TRIALS = 20
# The child imports everything first and says so; the kill clock starts at "ready", so the
# seeded delays spread over the ingest itself and not over interpreter start-up.
_DRIVER = """
import sys, time
from pathlib import Path
from data.ingest import ingest
print("ready", flush=True)
t0 = time.monotonic()
r = ingest([Path(sys.argv[1])], sys.argv[2], progress=False)
print("done", time.monotonic() - t0, r.published_version, flush=True)
sys.exit(r.exit_code)
"""


def content(store: Path) -> dict[tuple[str, str, str], str]:
    """What a reader of CURRENT sees, by checksum: (system, unit, level) -> sha256."""
    snap = open_snapshot(store)
    return {(sid, name, lvl): w.sha256 for (sid, name), rec in units_of(snap.manifest()).items()
            for lvl, w in rec.outputs.items()}


def _run_driver(root: Path, store: Path, kill_after: float | None) -> tuple[bool, float | None]:
    """Run the driver; SIGKILL it ``kill_after`` s after it is ready. (was it running when killed, duration)."""
    proc = subprocess.Popen([sys.executable, "-c", _DRIVER, str(root), str(store)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.stdout.readline().strip() == "ready"
    if kill_after is None:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        return False, float(out.split()[1])
    time.sleep(kill_after)
    running = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    return running, None


@pytest.fixture(scope="module")
def crash_setup(tmp_path_factory):
    """(root holding input B, store template in state 'before', content before, content after, duration)."""
    base = tmp_path_factory.mktemp("crash")
    root = base / "exports"
    write_inputs(root)
    template = base / "before"
    assert ingest([root], template, progress=False).published_version
    before = content(template)
    change_inputs(root)
    fresh = base / "fresh"
    assert ingest([root], fresh, progress=False).published_version  # a clean ingest of B, from nothing
    after = content(fresh)
    assert before != after
    # Calibration: the same run as a trial, uninterrupted, from the 'before' state.
    calib = base / "calib"
    shutil.copytree(template, calib, symlinks=True)
    _, duration = _run_driver(root, calib, None)
    assert content(calib) == after  # incremental from 'before' gives exactly a clean ingest
    return root, template, before, after, duration


def test_sigkill_at_random_moments_leaves_before_or_after_and_a_rerun_equals_a_clean_ingest(crash_setup, tmp_path):
    root, template, before, after, duration = crash_setup
    rng = random.Random(SEED)
    seen = {"before": 0, "after": 0}
    hit_running = 0
    for trial in range(KILL_TRIALS):
        store = tmp_path / f"t{trial}"
        shutil.copytree(template, store, symlinks=True)
        delay = rng.uniform(0.0, 1.15 * duration)
        running, _ = _run_driver(root, store, delay)
        hit_running += running
        # Readable, intact, and exactly one of the two states.
        snap = open_snapshot(store)
        assert verify_snapshot(snap) == [], (trial, delay)
        now = content(store)
        assert now in (before, after), (trial, delay)
        seen["before" if now == before else "after"] += 1
        svc = QueryService(store)
        assert {s.id for s in svc.systems()} == {CLEAN_METER, CLEAN_BESS}
        assert svc.series(CLEAN_METER, "com_ap", method="none", max_points=100_000).values.size
        # The next run recovers: staging cleaned, lock free, result equal to a clean ingest of B.
        rep = ingest([root], store, progress=False)
        assert rep.error is None, (trial, rep.error)
        assert content(store) == after, (trial, delay)
        assert verify_snapshot(open_snapshot(store)) == []
        assert not (store / STAGING_DIR).exists() or list((store / STAGING_DIR).iterdir()) == []
        assert not list(store.glob("CURRENT.tmp*"))
        shutil.rmtree(store)
    print(f"\n{KILL_TRIALS} SIGKILLs: {seen}, {hit_running} while the ingest was running")
    assert hit_running >= KILL_TRIALS // 2, "too few kills landed inside the ingest to prove anything"


def _fill(path: Path, leave_bytes: int) -> Path:
    """Fill the filesystem of ``path`` until about ``leave_bytes`` remain."""
    st = os.statvfs(path)
    free = st.f_bavail * st.f_frsize
    filler = path / "filler"
    with open(filler, "wb") as fh:
        fh.write(b"\0" * max(0, free - leave_bytes))
    return filler


def _assert_failed_clearly_and_store_intact(r: subprocess.CompletedProcess, store: Path, before_version: str,
                                            before_content: dict, words: tuple[str, ...]) -> None:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    text = (r.stdout + r.stderr).lower()
    assert "ingest failed" in text and any(w in text for w in words), text
    snap = open_snapshot(store)
    assert snap.version == before_version
    assert verify_snapshot(snap) == []
    assert content(store) == before_content


@pytest.fixture
def tmpfs(tmp_path):
    mnt = tmp_path / "tmpfs"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.strip()}); the RLIMIT_FSIZE test covers a full disk")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_full_disk_fails_clearly_and_keeps_the_old_store(tmpfs, tmp_path):
    root = tmp_path / "exports"
    write_inputs(root)
    store = tmpfs / "store"
    first = ingest([root], store, progress=False)
    assert first.published_version
    before_content = content(store)
    change_inputs(root)
    filler = _fill(tmpfs, 16 * 1024)
    r = subprocess.run([str(REPO / ".venv/bin/bess"), "ingest", str(root), "--store", str(store), "--quiet"],
                       capture_output=True, text=True, timeout=300, cwd=REPO)
    _assert_failed_clearly_and_store_intact(r, store, first.published_version, before_content,
                                            ("no space left on device",))
    filler.unlink()  # space again: the next run finishes the job
    rep = ingest([root], store, progress=False)
    assert rep.error is None and rep.published_version
    assert verify_snapshot(open_snapshot(store)) == []


def _limit_file_size() -> None:
    """preexec_fn: no file may grow past 4 KiB; writes past it fail with EFBIG instead of killing us."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))


def test_file_size_limit_fails_clearly_and_keeps_the_old_store(tmp_path):
    root = tmp_path / "exports"
    write_inputs(root)
    store = tmp_path / "store"
    first = ingest([root], store, progress=False)
    before_content = content(store)
    change_inputs(root)
    r = subprocess.run([str(REPO / ".venv/bin/bess"), "ingest", str(root), "--store", str(store), "--quiet"],
                       capture_output=True, text=True, timeout=300, cwd=REPO, preexec_fn=_limit_file_size)
    _assert_failed_clearly_and_store_intact(r, store, first.published_version, before_content,
                                            ("file too large", "errno 27"))


# -- corrupted Parquet -----------------------------------------------------------------------

@pytest.fixture
def small_store(tmp_path):
    write_clean(tmp_path / "exports")
    store = tmp_path / "store"
    assert ingest([tmp_path / "exports"], store, progress=False).published_version
    return tmp_path / "exports", store


def _flip_bit(path: Path, rng: random.Random) -> int:
    data = bytearray(path.read_bytes())
    pos = rng.randrange(4, len(data) - 8)  # inside the file, past the magic bytes
    data[pos] ^= 1 << rng.randrange(8)
    path.write_bytes(bytes(data))
    return pos


def test_verify_names_every_corrupted_file_and_only_those(small_store):
    _, store = small_store
    snap = open_snapshot(store)
    rng = random.Random(SEED)
    targets = [snap.file(CLEAN_METER, "raw", "com_ap"), snap.file(CLEAN_BESS, "1h", "cell_v"),
               snap.file(CLEAN_METER, "1d", "pos_ae")]
    for t in targets:
        _flip_bit(t, rng)
    problems = verify_snapshot(snap)
    assert len(problems) == len(targets)
    for t in targets:
        assert any(str(t) in p and "checksum" in p for p in problems)


def test_query_service_never_serves_a_corrupted_file_as_data(small_store):
    """Seeded one-bit flips in a served file: each query either returns the true data or raises a clear
    error naming the file; never different numbers."""
    _, store = small_store
    svc = QueryService(store)
    snap = open_snapshot(store)
    rng = random.Random(SEED)
    for level in ("raw", "15min"):
        path = snap.file(CLEAN_METER, level, "com_ap")
        original = path.read_bytes()
        truth = svc.series(CLEAN_METER, "com_ap", resolution=level, method="none", max_points=100_000)
        for _ in range(20):
            pos = _flip_bit(path, rng)
            fresh = QueryService(store)  # no cache can hide the file
            try:
                got = fresh.series(CLEAN_METER, "com_ap", resolution=level, method="none", max_points=100_000)
            except Exception as exc:  # noqa: BLE001 - the message is what is checked
                assert "checksum" in str(exc).lower() and path.name in str(exc), (level, pos, exc)
            else:
                assert (got.timestamps_ms == truth.timestamps_ms).all(), (level, pos)
                assert pl.Series(got.values).equals(pl.Series(truth.values)), (level, pos)
            path.write_bytes(original)


def test_reingest_repairs_a_corrupted_output_instead_of_carrying_it_forward(small_store):
    root, store = small_store
    target = open_snapshot(store).file(CLEAN_METER, "raw", "pf")
    _flip_bit(target, random.Random(SEED))
    p = root / "meter" / CLEAN_METER / "com_ap.csv"  # another signal changes: a new version is built
    p.write_text(p.read_text().replace(",1", ",2", 1))
    rep = ingest([root], store, progress=False)
    assert rep.published_version
    assert verify_snapshot(open_snapshot(store)) == []


def test_corrupted_manifest_is_a_clear_error_and_the_next_ingest_recovers(small_store):
    root, store = small_store
    snap = open_snapshot(store)
    (snap.path / "manifest.json").write_text('{"manifest_version": 1, "syst')  # torn by hand
    assert "manifest unreadable" in verify_snapshot(snap)[0]
    with pytest.raises(ValueError):
        QueryService(store).systems()
    rep = ingest([root], store, progress=False)
    assert rep.error is None and rep.published_version  # unreadable manifest: everything rebuilt
    assert verify_snapshot(open_snapshot(store)) == []


def test_versions_are_pruned_but_never_the_current_one(small_store):
    root, store = small_store
    p = root / "meter" / CLEAN_METER / "com_ap.csv"
    for i in range(5):
        p.write_text(p.read_text() + f"2024-04-10 00:{i:02d}:00,{i}\n")
        assert ingest([root], store, progress=False).published_version
    names = sorted(x.name for x in (store / VERSIONS_DIR).iterdir())
    assert len(names) <= 3 and open_snapshot(store).version in names
