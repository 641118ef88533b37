"""The 30-alias RAW attack of issue 13 (item 13) against a real `bess serve` process over 1-second data.

One 5 KB request of 30 aliases, each a RAW series over the whole record, read 30 x the rows and took
the server's memory. It must be refused with LIMIT and its numbers before anything is read, and the
server's resident memory must stay where it was, while one such series alone is still answered.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx
import numpy as np
import psutil
import pytest

from api.limits import MAX_REQUEST_ROWS
from data.ingest import ingest

REPO = Path(__file__).resolve().parents[1]
DAYS = 8  # 691,200 rows of 1-second data: 30 aliases read 20.7 M rows, one reads 0.7 M
ROWS = DAYS * 86_400
START = datetime(2024, 1, 10, tzinfo=timezone.utc)
# Refused before any read, the request costs the server next to nothing; reading it all costs about a
# gigabyte (30 x 691,200 rows of timestamps and values, plus their copies).
MAX_GROWTH_BYTES = 150 * 1024 * 1024


def _write_one_second_meter(root: Path) -> None:
    ts = np.arange(ROWS) + int(START.timestamp())
    stamps = np.datetime_as_string(ts.astype("datetime64[s]"), unit="s").tolist()
    values = np.round(10 + 5 * np.sin(np.arange(ROWS) / 600.0), 3).tolist()
    path = root / "meter" / "fast1" / "com_ap.csv"
    path.parent.mkdir(parents=True)
    with open(path, "w") as fh:
        fh.write("timestamp,value\n")
        fh.write("\n".join(f"{s}Z,{v}" for s, v in zip(stamps, values)))
        fh.write("\n")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("memory")
    _write_one_second_meter(base / "in")
    assert ingest([base / "in"], base / "store", progress=False).published_version
    with __import__("socket").socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(base / "serve.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                             "--store", str(base / "store")], cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "BESS_API_TOKEN": "", "PYTHONPATH": str(REPO)})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while True:
        assert proc.poll() is None, (base / "serve.log").read_text()[-3000:]
        try:
            if httpx.get(url + "/healthz", timeout=5).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, (base / "serve.log").read_text()[-3000:]
        time.sleep(0.25)
    yield url, proc
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()


def _raw_series(alias: str) -> str:
    return (f'{alias}: series(signal: "com_ap", resolution: RAW, from: "{START.isoformat()}", '
            f'to: "2024-01-18T00:00:00Z", maxPoints: 10000) {{ values }}')


def _query(n: int) -> str:
    return '{ system(id: "fast1") { %s } }' % " ".join(_raw_series(f"a{i}") for i in range(n))


def _post(url: str, query: str) -> dict:
    r = httpx.post(f"{url}/graphql", json={"query": query}, timeout=300)
    assert r.status_code == 200, r.text[:300]
    return r.json()


def _peak_rss_during(pid: int, action) -> tuple[int, int, object]:  # noqa: ANN001
    """(RSS before, highest RSS sampled while ``action`` ran, its result)."""
    proc = psutil.Process(pid)
    before = proc.memory_info().rss
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            done.wait(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result = action()
    finally:
        done.set()
        sampler.join()
    return before, max(peak[0], proc.memory_info().rss), result


def test_thirty_raw_aliases_are_refused_before_reading_and_memory_stays_flat(server):
    url, proc = server
    one = _post(url, _query(1))  # warm: kernels compiled, file verified, caches filled
    assert "errors" not in one and len(one["data"]["system"]["a0"]["values"]) > 1000
    assert 30 * ROWS > MAX_REQUEST_ROWS >= ROWS  # the attack is over the budget, one series is not

    before, peak, body = _peak_rss_during(proc.pid, lambda: _post(url, _query(30)))
    assert peak - before < MAX_GROWTH_BYTES, f"RSS grew by {(peak - before) / 2**20:.0f} MiB"
    assert body["data"] is None, str(body)[:300]
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "LIMIT"
    assert "30 reading fields" in error["message"] and f"{MAX_REQUEST_ROWS:,}" in error["message"]
    read = int(error["message"].split("read about ")[1].split(" rows")[0].replace(",", ""))
    assert abs(read - 30 * ROWS) < 0.01 * 30 * ROWS  # the estimate is the real row count

    again = _post(url, _query(1))  # and the server still answers
    assert again == one
