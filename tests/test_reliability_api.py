"""The API under abuse, load and a concurrent ingest: a real `bess serve` process on 127.0.0.1.

Every abusive request must come back (within a generous client timeout) with a clear error and no
5xx, and a normal query right after must still work. Load and the concurrent ingest are bounded in
count and time and stay on loopback. The 60-s load run is bench/load.py (`make bench`).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from data.ingest import ingest

sys.path.insert(0, str(Path(__file__).parent))
from reliability_corpus import CLEAN_BESS, CLEAN_METER, change_inputs, write_inputs  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
BESS = REPO / ".venv" / "bin" / "bess"
CLIENT_TIMEOUT_S = 60  # "refused quickly" = an answer comes back at all within this
NORMAL = "{ systems { id } }"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """A `bess serve` subprocess on a loopback port over ``store``."""

    def __init__(self, store: Path, log: Path):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self._fh = open(log, "w")
        self.proc = subprocess.Popen([str(BESS), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                                      "--store", str(store)], cwd=REPO, stdout=self._fh, stderr=subprocess.STDOUT,
                                     env={**os.environ, "BESS_API_TOKEN": ""})
        deadline = time.monotonic() + 180
        while True:
            assert self.proc.poll() is None, log.read_text()
            try:
                if httpx.get(self.url + "/healthz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "server did not come up: " + log.read_text()[-2000:]
            time.sleep(0.25)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._fh.close()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Two export roots, A and B (B: one value changed, a signal added, one removed, pack 3 changed)."""
    base = tmp_path_factory.mktemp("api_inputs")
    write_inputs(base / "A")
    shutil.copytree(base / "A", base / "B")
    change_inputs(base / "B")
    return base / "A", base / "B"


@pytest.fixture(scope="module")
def served(tmp_path_factory, inputs):
    base = tmp_path_factory.mktemp("served")
    store = base / "store"
    assert ingest([inputs[0]], store, progress=False).published_version
    server = Served(store, base / "serve.log")
    yield server, store
    server.stop()


def post(url: str, *, json=None, content=None, headers=None) -> httpx.Response:
    with httpx.Client(base_url=url, timeout=CLIENT_TIMEOUT_S) as c:
        return c.post("/graphql", json=json, content=content, headers=headers)


def assert_normal_query_works(url: str) -> None:
    r = post(url, json={"query": NORMAL})
    assert r.status_code == 200, r.text[:300]
    assert {s["id"] for s in r.json()["data"]["systems"]} == {CLEAN_METER, CLEAN_BESS}


def _errors(r: httpx.Response) -> list[dict]:
    assert r.status_code < 500, (r.status_code, r.text[:300])
    body = r.json()
    assert body.get("errors"), body
    return body["errors"]


# -- GraphQL documents that must be refused -------------------------------------------------------

def _deep_selection(depth: int) -> str:
    return "{ systems " + "{ signals " * depth + "{ name }" + " }" * (depth + 1)


def _introspection_bomb(depth: int) -> str:
    """types -> fields -> type -> fields ...: grows with (fields per type) ** depth."""
    return "{ __schema { types { " + "fields { type { " * depth + "name" + " } }" * depth + " } } }"


def _fragment_cycle() -> str:
    return "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }"


def _fragment_fanout(levels: int) -> str:
    """'Billion laughs': each fragment spreads the next twice; 2**levels spreads of one field."""
    frags = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels))
    return f"query {{ ...F0 }} {frags} fragment F{levels} on Query {{ systems {{ id }} }}"


def _alias_bomb(n: int) -> str:
    return "{ " + " ".join(f"a{i}: systems {{ id }}" for i in range(n)) + " }"


_S = '{ system(id: "%s") { ' % CLEAN_METER
DOCUMENTS = [
    # (name, document, code, words in the message)
    ("depth_bomb", _deep_selection(40), "LIMIT", "depth"),
    ("introspection_bomb", _introspection_bomb(6), "BAD_INPUT", "introspection depth"),
    ("fragment_cycle", _fragment_cycle(), "BAD_INPUT", "cannot spread fragment"),
    ("alias_bomb_300", _alias_bomb(300), "LIMIT", "aliases"),
    ("alias_bomb_20k_chars", _alias_bomb(2_000), "LIMIT", "more than"),
    ("maxpoints_10m", _S + 'series(signal: "com_ap", maxPoints: 10000000) { values } } }', "LIMIT", "maxpoints"),
    ("maxpoints_int32_overflow", _S + 'series(signal: "com_ap", maxPoints: 2147483648) { values } } }', "BAD_INPUT",
     "32-bit"),
    ("maxpoints_1e20", _S + 'series(signal: "com_ap", maxPoints: 100000000000000000000) { values } } }', "BAD_INPUT",
     "32-bit"),
    ("maxpoints_negative", _S + 'series(signal: "com_ap", maxPoints: -5) { values } } }', "LIMIT", "maxpoints"),
    ("range_year_1_to_9999", _S + 'series(signal: "com_ap", from: "0001-01-01T00:00:00Z", '
     'to: "9999-12-31T23:59:59Z") { values } } }', "LIMIT", "exceeds the limit"),
    ("kpis_range_huge", _S + 'kpis(from: "0001-01-01T00:00:00Z", to: "9999-12-31T00:00:00Z") { __typename } } }',
     "LIMIT", "exceeds the limit"),
    ("date_out_of_range", _S + 'series(signal: "com_ap", from: "-999999-01-01") { values } } }', "BAD_INPUT",
     "iso 8601"),
    ("offset_out_of_range", _S + 'series(signal: "com_ap", from: "2024-01-01T00:00:00+25:00") { values } } }',
     "BAD_INPUT", "iso 8601"),
    ("unknown_system", '{ system(id: "no-such-system") { id } }', "NOT_FOUND", "unknown system"),
    ("path_traversal_system", '{ system(id: "../../etc/passwd") { id } }', "NOT_FOUND", "unknown system"),
    ("path_traversal_signal", _S + 'series(signal: "../../../../etc/passwd") { values } } }', "NOT_FOUND",
     "no signal"),
    ("path_traversal_into_other_system", _S + f'series(signal: "com_ap/../../{CLEAN_BESS}/raw/bms1_soc") '
     '{ values } } }', "NOT_FOUND", "no signal"),
    ("nul_in_id", '{ system(id: "m1\\u0000") { id } }', "NOT_FOUND", "unknown system"),
    ("huge_id", '{ system(id: "%s") { id } }' % ("x" * 10_000), "NOT_FOUND", "unknown system"),
    ("lone_surrogate", '{ system(id: "\\ud800") { id } }', None, ""),
    ("syntax_error", "{ systems { id ", "BAD_INPUT", "syntax error"),
    ("subscription", "subscription { x }", "BAD_INPUT", "subscription"),
    ("unknown_pack", '{ system(id: "%s") { ... on Bess { pack(index: 999999) { index } } } }' % CLEAN_BESS,
     "NOT_FOUND", "not 999999"),
]


@pytest.mark.parametrize("name, document, code, words", DOCUMENTS, ids=[d[0] for d in DOCUMENTS])
def test_abusive_document_is_refused_clearly_and_the_server_still_answers(served, name, document, code, words):
    server, _ = served
    errors = _errors(post(server.url, json={"query": document}))
    assert all(e["message"].strip() for e in errors)
    if code:
        assert errors[0]["extensions"]["code"] == code, errors
        assert words in errors[0]["message"].lower(), errors
    assert all(e["extensions"]["code"] != "INTERNAL" for e in errors), errors
    assert_normal_query_works(server.url)


def test_fragment_fanout_bomb_is_refused(served):
    server, _ = served
    errors = _errors(post(server.url, json={"query": _fragment_fanout(18)}))
    assert errors[0]["extensions"]["code"] == "LIMIT"
    assert "expanded" in errors[0]["message"]
    assert_normal_query_works(server.url)


def test_small_fragment_fanout_still_works(served):
    """Legitimate fragment reuse is not refused."""
    server, _ = served
    r = post(server.url, json={"query": _fragment_fanout(3)})
    assert r.status_code == 200 and "errors" not in r.json()
    assert_normal_query_works(server.url)


# -- bodies that are not GraphQL requests -----------------------------------------------------------

BODIES = [
    # (name, body, content type, status, words)
    ("malformed_json", b'{"query": ', "application/json", 400, "json"),
    ("invalid_utf8", b"\xff\xfe\x00garbage", "application/json", 400, "json"),
    ("empty_body", b"", "application/json", 400, "json"),
    ("batch_array", b"[]", "application/json", 400, "batching"),
    ("query_not_a_string", b'{"query": 5}', "application/json", 400, "must be a string"),
    ("variables_not_an_object", b'{"query": "{ systems { id } }", "variables": "x"}', "application/json", 400,
     "variables"),
    ("unknown_operation_name", b'{"query": "{ systems { id } }", "operationName": "Nope"}', "application/json", 400,
     "unknown operation"),
    ("text_plain", b'{"query": "{ systems { id } }"}', "text/plain", 400, "content type"),
]


@pytest.mark.parametrize("name, body, ctype, status, words", BODIES, ids=[b[0] for b in BODIES])
def test_malformed_body_is_refused_clearly_and_the_server_still_answers(served, name, body, ctype, status, words):
    server, _ = served
    r = post(server.url, content=body, headers={"content-type": ctype})
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert words in r.text.lower()
    assert_normal_query_works(server.url)


@pytest.mark.parametrize("body", [b'"str"', b"null", b"1"])
def test_json_body_that_is_not_an_object_is_a_400(served, body):
    server, _ = served
    r = post(server.url, content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400, (r.status_code, r.text[:200])
    assert "json object" in r.text.lower()
    assert_normal_query_works(server.url)


def test_fifty_megabyte_body_is_refused_and_the_server_still_answers(served):
    server, _ = served
    payload = b"x" * (50 * 1024 * 1024)
    r = post(server.url, content=payload, headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["errors"][0]["extensions"]["code"] == "LIMIT"

    def chunks():  # no content-length: 50 MB streamed
        for _ in range(50):
            yield b"x" * (1024 * 1024)

    r = post(server.url, content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert_normal_query_works(server.url)


# -- bounded load on loopback ---------------------------------------------------------------------

def test_load_smoke_zero_errors(served):
    """A short, bounded version of bench/load.py: 8 workers x 40 mixed queries, zero errors (a request
    is answered, or refused with 503 + Retry-After when the queue stands: 8 clients saturate 2 slots);
    then as many clients as run at once (BESS_MAX_ACTIVE): nothing waits, so nothing is refused."""
    from api.guard import DEFAULT_MAX_ACTIVE
    from bench.load import mixed_queries, run_load

    server, _ = served
    queries = mixed_queries(CLEAN_METER, CLEAN_BESS)
    result = run_load(server.url, queries, concurrency=8, requests_per_worker=40, duration_s=None)
    assert result.requests == 8 * 40
    assert result.errors == 0, result.error_examples
    assert len(result.latencies_s) + result.shed == result.requests and result.latencies_s
    within = run_load(server.url, queries, concurrency=DEFAULT_MAX_ACTIVE, requests_per_worker=20, duration_s=None)
    assert within.errors == 0 and within.shed == 0, (within.error_examples, within.shed)
    assert_normal_query_works(server.url)


def test_the_load_client_runs_where_an_event_loop_already_runs(served):
    """Playwright's sync API keeps an event loop running in the test process (the browser tests'
    session fixture); the load client ran asyncio.run there and failed in full runs of the suite."""
    import asyncio

    from bench.load import mixed_queries, run_load

    server, _ = served

    async def inside_a_loop():
        return run_load(server.url, mixed_queries(CLEAN_METER, CLEAN_BESS)[:1], concurrency=1,
                        requests_per_worker=2)

    from concurrent.futures import ThreadPoolExecutor

    # the loop of this test runs in a thread of its own: this thread may run Playwright's already
    with ThreadPoolExecutor(1) as pool:
        result = pool.submit(asyncio.run, inside_a_loop()).result()
    assert result.requests == 2 and result.errors == 0 and len(result.latencies_s) == 2


# -- serving while ingesting --------------------------------------------------------------------

CHURN_QUERIES = {
    "series": _S + 'series(signal: "com_ap", resolution: RAW, downsample: NONE, maxPoints: 10000) '
              '{ timestampsMs values } } }',
    "signals": _S + "signals { name } } }",
    "kpis": _S + "kpis { ... on MeterKpis { importKwh exportKwh peakPowerKw } } } }",
    "cells": '{ system(id: "%s") { ... on Bess { cellVoltageMatrix(resolution: DAY) { rows columns values } } } }'
             % CLEAN_BESS,
    "systems": "{ systems { id kind } }",
}


def _answers(url: str) -> dict[str, dict]:
    out = {}
    for name, q in CHURN_QUERIES.items():
        r = post(url, json={"query": q})
        assert r.status_code == 200 and "errors" not in r.json(), (name, r.text[:300])
        out[name] = r.json()
    return out


def test_queries_during_ingests_see_old_or_new_data_never_an_error(served, inputs):
    """Readers hammer the server while 4 subprocess ingests publish A and B in turn (old versions pruned)."""
    server, store = served
    root_a, root_b = inputs
    assert ingest([root_a], store, progress=False).error is None
    answers_a = _answers(server.url)
    assert ingest([root_b], store, progress=False).published_version
    answers_b = _answers(server.url)
    assert answers_a["series"] != answers_b["series"] and answers_a["signals"] != answers_b["signals"]
    assert answers_a["cells"] != answers_b["cells"]

    stop = threading.Event()
    seen: dict[str, int] = {"a": 0, "b": 0}
    bad: list[str] = []
    lock = threading.Lock()

    def reader(k: int) -> None:
        names = list(CHURN_QUERIES)
        i = k
        with httpx.Client(base_url=server.url, timeout=CLIENT_TIMEOUT_S) as c:
            while not stop.is_set():
                name = names[i % len(names)]
                i += 1
                try:
                    r = c.post("/graphql", json={"query": CHURN_QUERIES[name]})
                    body = r.json()
                except (httpx.HTTPError, ValueError) as exc:
                    with lock:
                        bad.append(f"{name}: {exc!r}")
                    continue
                if r.status_code == 503 and "retry-after" in r.headers:  # shed while ingests load the CPU:
                    stop.wait(float(r.headers["retry-after"]))          # a documented answer, not an error
                    continue
                with lock:
                    if r.status_code == 200 and body == answers_a[name]:
                        seen["a"] += 1
                    elif r.status_code == 200 and body == answers_b[name]:
                        seen["b"] += 1
                    else:
                        bad.append(f"{name}: {r.status_code} {str(body)[:300]}")

    threads = [threading.Thread(target=reader, args=(k,), daemon=True) for k in range(4)]
    for t in threads:
        t.start()
    try:
        for i in range(4):
            root = root_a if i % 2 == 0 else root_b
            r = subprocess.run([str(BESS), "ingest", str(root), "--store", str(store), "--quiet"], cwd=REPO,
                               capture_output=True, text=True, timeout=300)
            assert r.returncode == 0, r.stdout + r.stderr
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=CLIENT_TIMEOUT_S + 5)
    assert bad == [], bad[:5]
    assert seen["a"] + seen["b"] > 0
    print(f"\nduring 4 ingests: {seen['a']} answers from A, {seen['b']} from B, 0 errors")
