"""Issue 13 against a real server on loopback: the token gate and sign-in, trusted hosts, GET, hostile JSON
and GraphQL input, the per-request budget, load shedding and slow clients."""

from __future__ import annotations

import json
import socket
import threading
import time

import httpx
import pytest

from api.app import create_app
from api.guard import ShedQueue
from api.limits import MAX_JSON_DEPTH, MAX_REQUEST_POINTS
from data.glossary import SystemKind
from test_api_support import live_server

NORMAL = {"query": "{ systems { id } }"}


@pytest.fixture(scope="module")
def ids(service):
    return {"meter": service.systems(SystemKind.METER)[0].id, "bess": service.systems(SystemKind.BESS)[0].id}


@pytest.fixture(scope="module")
def open_url(service):
    with live_server(create_app(service.store, token=None, cors_origins=[], allowed_hosts=None)) as url:
        yield url


def _codes(body: dict) -> set[str]:
    return {e["extensions"]["code"] for e in body.get("errors") or []}


# -- item 1: the token gate, sign-in and session cookie -------------------------------------------

@pytest.fixture(scope="module")
def locked_url(service):
    with live_server(create_app(service.store, token="old-token-1234, new-token-5678", cors_origins=[])) as url:
        yield url


def _sign_in(url: str, token: str, next_path: str = "/", **headers) -> httpx.Response:
    return httpx.post(f"{url}/login", data={"token": token, "next": next_path}, headers=headers)


def test_every_token_of_the_list_is_accepted_as_bearer_and_others_are_not(locked_url):
    for token in ("old-token-1234", "new-token-5678"):
        r = httpx.post(f"{locked_url}/graphql", json=NORMAL, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and r.json()["data"]["systems"], r.text
    for header in ("Bearer old-token-1234, new-token-5678", "Bearer old-token", "Bearer x", "old-token-1234"):
        r = httpx.post(f"{locked_url}/graphql", json=NORMAL, headers={"Authorization": header})
        assert r.status_code == 401 and _codes(r.json()) == {"UNAUTHENTICATED"}, header


def test_sign_in_form_sets_a_strict_http_only_session_cookie_that_opens_graphql(locked_url):
    form = httpx.get(f"{locked_url}/login?next=/%3Fview%3Dbess")
    assert form.status_code == 200 and 'type="password"' in form.text and 'value="/?view=bess"' in form.text
    wrong = _sign_in(locked_url, "guess")
    assert wrong.status_code == 401 and "Wrong token" in wrong.text and "set-cookie" not in wrong.headers
    ok = _sign_in(locked_url, "new-token-5678", "/?view=bess")
    assert ok.status_code == 303 and ok.headers["location"] == "/?view=bess"
    cookie = ok.headers["set-cookie"]
    attrs = {a.strip().split("=")[0].lower() for a in cookie.split(";")[1:]}
    assert {"httponly", "samesite", "path", "max-age"} <= attrs and "samesite=strict" in cookie.lower()
    assert "secure" not in attrs  # plain http on loopback: a Secure cookie would never come back
    value = cookie.split(";")[0]
    r = httpx.post(f"{locked_url}/graphql", json=NORMAL, headers={"Cookie": value})
    assert r.status_code == 200 and r.json()["data"]["systems"]
    forged = value.split("=")[0] + "=" + value.split("=")[1][:-4] + "0000"
    assert httpx.post(f"{locked_url}/graphql", json=NORMAL, headers={"Cookie": forged}).status_code == 401


def test_session_cookie_is_secure_over_https(locked_url):
    # uvicorn trusts X-Forwarded-Proto from 127.0.0.1 (a reverse proxy on the same host).
    ok = _sign_in(locked_url, "old-token-1234", **{"X-Forwarded-Proto": "https"})
    assert ok.status_code == 303 and "; secure" in ok.headers["set-cookie"].lower()


def test_sign_in_redirects_only_to_this_server(locked_url):
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"):
        r = _sign_in(locked_url, "old-token-1234", target)
        assert r.status_code == 303 and r.headers["location"] == "/", target
    page = httpx.get(f"{locked_url}/login", params={"next": '/"><script>alert(1)</script>'})
    assert "<script>alert(1)" not in page.text


def test_removing_a_token_ends_its_sessions(service, locked_url):
    cookie = _sign_in(locked_url, "old-token-1234").headers["set-cookie"].split(";")[0]
    with live_server(create_app(service.store, token="new-token-5678", cors_origins=[])) as rotated:
        assert httpx.post(f"{rotated}/graphql", json=NORMAL, headers={"Cookie": cookie}).status_code == 401
        fresh = _sign_in(rotated, "new-token-5678").headers["set-cookie"].split(";")[0]
        assert httpx.post(f"{rotated}/graphql", json=NORMAL, headers={"Cookie": fresh}).status_code == 200


def test_healthz_and_sign_in_are_the_only_open_routes(locked_url):
    assert httpx.get(f"{locked_url}/healthz").status_code == 200
    for path in ("/graphql", "/graphql?query=%7Bsystems%7Bid%7D%7D", "/anything", "/favicon.ico"):
        assert httpx.get(f"{locked_url}{path}").status_code == 401, path


# -- item 4: trusted hosts, GET, slow clients -------------------------------------------------------

@pytest.mark.parametrize("host, status", [
    ("evil.example", 400), ("evil.example:8000", 400), ("127.0.0.1.evil.example", 400), ("", 400),
    ("localhost", 200), ("LOCALHOST:8000", 200), ("127.0.0.1:1234", 200), ("[::1]:8000", 200),
])
def test_only_trusted_host_headers_are_served(open_url, host, status):
    r = httpx.get(f"{open_url}/graphql", params=NORMAL, headers={"Host": host})
    assert r.status_code == status, (host, r.text[:200])
    if status == 400:
        assert "BESS_ALLOWED_HOSTS" in r.json()["errors"][0]["message"]


def test_allowed_hosts_setting_adds_names(service, monkeypatch):
    monkeypatch.setenv("BESS_ALLOWED_HOSTS", "bess.example.org, *.plant.example")
    with live_server(create_app(service.store, token=None, cors_origins=[])) as url:
        for host, status in (("bess.example.org", 200), ("a.plant.example:443", 200), ("plant.example", 400),
                             ("localhost", 200), ("evil.example", 400)):
            assert httpx.get(f"{url}/healthz", headers={"Host": host}).status_code == status, host


def test_graphql_over_get_runs_queries_but_never_mutations(open_url):
    ok = httpx.get(f"{open_url}/graphql", params=NORMAL)
    assert ok.status_code == 200 and ok.json()["data"]["systems"]
    for q in ("mutation { x }", "mutation M { systems { id } }"):
        r = httpx.get(f"{open_url}/graphql", params={"query": q})
        assert r.status_code in (400, 405) and _codes(r.json()) == {"BAD_INPUT"}, r.text


def test_a_client_that_never_finishes_its_request_head_is_disconnected():
    """Slowloris: uvicorn alone waits forever for the rest of the head; the server's protocol does not."""
    import asyncio

    import uvicorn

    from api.protocol import HeaderTimeoutH11Protocol

    class Quick(HeaderTimeoutH11Protocol):
        header_timeout_s = 1.0

    async def app(scope, receive, send):  # noqa: ANN001
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, http=Quick, log_config=None, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as c:
            c.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")  # and then nothing
            assert c.recv(1024) == b""  # closed by the server (a timeout here would raise instead)
        with socket.create_connection(("127.0.0.1", port), timeout=30) as c:  # complete heads still work
            c.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            assert c.recv(1024).startswith(b"HTTP/1.1 200")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
    assert asyncio  # imported for the protocol's loop


# -- item 12: hostile JSON and GraphQL input are BAD_INPUT, never INTERNAL or 500 -----------------

_SERIES_Q = 'query($n: Int!) { system(id: "%s") { series(signal: "com_ap", maxPoints: $n) { values } } }'


def _body(ids, n_json: str) -> bytes:
    return ('{"query": %s, "variables": {"n": %s}}' % (json.dumps(_SERIES_Q % ids["meter"]), n_json)).encode()


@pytest.mark.parametrize("n_json", ["NaN", "Infinity", "-Infinity", "1.5", "[1]", '"5"', "1e400", "{}", "true",
                                    "9" * 5000, "-" + "9" * 5000, "100000000000000000000", "2147483648"])
def test_bad_int_variables_are_bad_input(open_url, ids, n_json):
    r = httpx.post(f"{open_url}/graphql", content=_body(ids, n_json), headers={"content-type": "application/json"})
    assert r.status_code in (200, 400), (r.status_code, r.text[:300])
    body = r.json()
    assert _codes(body) == {"BAD_INPUT"}, body
    assert all(len(e["message"]) <= 600 for e in body["errors"])  # 5,000 digits are not echoed back


@pytest.mark.parametrize("literal", ["1.5", "[1]", "9" * 5000, "NaN", "Infinity", '"5"', "null"])
def test_bad_int_literals_are_bad_input(open_url, ids, literal):
    q = '{ system(id: "%s") { series(signal: "com_ap", maxPoints: %s) { values } } }' % (ids["meter"], literal)
    r = httpx.post(f"{open_url}/graphql", json={"query": q})
    assert r.status_code == 200 and _codes(r.json()) == {"BAD_INPUT"}, r.text[:300]


@pytest.mark.parametrize("nested", ["[" * 20_000 + "]" * 20_000, '{"a":' * 10_000 + "1" + "}" * 10_000,
                                    "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)])
def test_deeply_nested_json_is_refused_before_parsing(open_url, nested):
    body = ('{"query": "{ systems { id } }", "variables": {"x": %s}}' % nested).encode()
    r = httpx.post(f"{open_url}/graphql", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400 and _codes(r.json()) == {"BAD_INPUT"}, r.text[:300]
    assert "nested" in r.json()["errors"][0]["message"]
    assert httpx.post(f"{open_url}/graphql", json=NORMAL).status_code == 200


def test_nesting_inside_strings_does_not_count(open_url):
    text = "[" * 10_000  # brackets in a string are text, not nesting
    q = '{ system(id: "%s") { id } }' % text[:200]
    r = httpx.post(f"{open_url}/graphql", json={"query": q, "variables": {"s": text}})
    assert r.status_code == 200 and _codes(r.json()) == {"NOT_FOUND"}, r.text[:300]


def test_deeply_nested_variables_in_a_get_query_are_refused(open_url):
    r = httpx.get(f"{open_url}/graphql", params={"query": "{ systems { id } }", "variables": "[" * 5000 + "]" * 5000})
    assert r.status_code == 400 and _codes(r.json()) == {"BAD_INPUT"}


# -- item 13: the per-request budget --------------------------------------------------------------

def test_many_aliases_of_a_large_matrix_are_refused_before_execution_with_the_numbers(open_url, ids):
    one = "cellVoltageMatrix(resolution: DAY) { values }"
    fine = '{ system(id: "%s") { ... on Bess { a0: %s } } }' % (ids["bess"], one)
    r = httpx.post(f"{open_url}/graphql", json={"query": fine})
    assert r.status_code == 200 and "errors" not in r.json()
    values = len(r.json()["data"]["system"]["a0"]["values"])
    n = MAX_REQUEST_POINTS // values + 1  # just over the budget
    assert n <= 30
    many = '{ system(id: "%s") { ... on Bess { %s } } }' % (
        ids["bess"], " ".join(f"a{i}: {one}" for i in range(n)))
    body = httpx.post(f"{open_url}/graphql", json={"query": many}).json()
    assert body["data"] is None and _codes(body) == {"LIMIT"}, body  # nothing executed
    msg = body["errors"][0]["message"]
    assert f"{n} reading fields" in msg and f"{MAX_REQUEST_POINTS:,}" in msg and f"{n * values:,}" in msg
    fewer = many.replace(f" a{n - 1}: {one}", "")  # one fewer fits
    assert "errors" not in httpx.post(f"{open_url}/graphql", json={"query": fewer}).json()


def test_the_budget_counts_fields_behind_fragments_lists_and_variables(open_url, ids):
    frag = "fragment M on Bess { cellVoltageMatrix(resolution: $r) { values } }"
    spreads = " ".join(f"a{i}: system(id: $id) {{ ...M }}" for i in range(8))
    q = f"query($id: ID!, $r: Resolution!) {{ {spreads} }} {frag}"
    body = httpx.post(f"{open_url}/graphql", json={"query": q, "variables": {"id": ids["bess"], "r": "DAY"}}).json()
    assert _codes(body) == {"LIMIT"} and body["data"] is None, body
    listed = "{ " + " ".join(f"a{i}: systems(kind: BESS) {{ ... on Bess {{ cellVoltageMatrix(resolution: DAY) "
                             f"{{ values }} }} }}" for i in range(3)) + " }"
    body = httpx.post(f"{open_url}/graphql", json={"query": listed}).json()
    assert _codes(body) == {"LIMIT"} and "9 reading fields" in body["errors"][0]["message"], body


# -- item 14: load shedding -------------------------------------------------------------------------

def _start_slow_request(port: int, body: bytes) -> socket.socket:
    """A POST /graphql whose head and first body byte are sent; the rest waits (it holds its slot)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    s.sendall(b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n" % len(body) + body[:1])
    return s


def _finish(s: socket.socket, body: bytes) -> bytes:
    s.sendall(body[1:])
    data = b""
    while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    return data


def test_requests_beyond_the_queue_get_503_with_retry_after_at_once(service):
    queue = ShedQueue(max_active=1, max_queue=1, max_wait_s=60, standing_s=60)  # depth alone refuses here
    with live_server(create_app(service.store, token=None, cors_origins=[], shed=queue, body_timeout_s=120)) as url:
        port = int(url.rsplit(":", 1)[1])
        body = json.dumps(NORMAL).encode()
        first = _start_slow_request(port, body)  # runs (waits for its body)
        deadline = time.monotonic() + 60
        while httpx.get(f"{url}/healthz").json()["load"]["active"] < 1:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        second = _start_slow_request(port, body)  # waits in the queue
        while httpx.get(f"{url}/healthz").json()["load"]["queued"] < 1:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        load = httpx.get(f"{url}/healthz").json()["load"]
        assert load.pop("oldest_wait_ms") > 0
        assert load == {"active": 1, "queued": 1, "max_active": 1, "max_queue": 1, "shed_total": 0}
        third = httpx.post(f"{url}/graphql", json=NORMAL, timeout=60)
        assert third.status_code == 503 and third.headers["retry-after"] == "1"
        assert _codes(third.json()) == {"OVERLOADED"} and "busy" in third.json()["errors"][0]["message"]
        assert httpx.get(f"{url}/healthz").json()["load"]["shed_total"] == 1
        for s in (first, second):  # both accepted requests complete normally
            reply = _finish(s, body)
            assert reply.startswith(b"HTTP/1.1 200"), reply[:200]
            assert b'"systems"' in reply
        after = httpx.post(f"{url}/graphql", json=NORMAL)
        assert after.status_code == 200
        assert httpx.get(f"{url}/healthz").json()["load"]["active"] == 0


def test_a_body_that_does_not_arrive_is_refused_with_408(service):
    with live_server(create_app(service.store, token=None, cors_origins=[], body_timeout_s=0.5)) as url:
        slow = _start_slow_request(int(url.rsplit(":", 1)[1]), json.dumps(NORMAL).encode())
        reply = slow.recv(65536)  # the server answers without the rest of the body
        slow.close()
        assert reply.startswith(b"HTTP/1.1 408"), reply[:200]
        assert httpx.get(f"{url}/healthz").json()["load"]["active"] == 0  # its slot was given back


def test_a_standing_queue_refuses_newcomers_at_once_though_it_has_room(service):
    """CoDel-like: once more than max_active requests wait and the oldest has waited longer than
    standing_s, the queue is not draining, and a newcomer gets 503 + Retry-After at once (not a wait it
    would time out of), though 3 of 5 places are free. When the slot frees, the waiting requests are
    still served."""
    queue = ShedQueue(max_active=1, max_queue=5, max_wait_s=60, standing_s=0.3)
    with live_server(create_app(service.store, token=None, cors_origins=[], shed=queue, body_timeout_s=120)) as url:
        port = int(url.rsplit(":", 1)[1])
        body = json.dumps(NORMAL).encode()
        holder = _start_slow_request(port, body)
        deadline = time.monotonic() + 60
        while httpx.get(f"{url}/healthz").json()["load"]["active"] < 1:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        waiters = [_start_slow_request(port, body)]  # one round of slots waiting: a burst, not refused
        while (load := httpx.get(f"{url}/healthz").json()["load"])["oldest_wait_ms"] <= 300:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        waiters.append(_start_slow_request(port, body))  # accepted into the queue: only one was waiting
        while (load := httpx.get(f"{url}/healthz").json()["load"])["queued"] < 2:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert load["shed_total"] == 0 and load["oldest_wait_ms"] > 300
        refused = httpx.post(f"{url}/graphql", json=NORMAL, timeout=60)
        assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
        assert _codes(refused.json()) == {"OVERLOADED"}
        assert httpx.get(f"{url}/healthz").json()["load"]["shed_total"] == 1
        assert _finish(holder, body).startswith(b"HTTP/1.1 200")
        for w in waiters:  # they waited past standing_s but within max_wait_s: served
            reply = _finish(w, body)
            assert reply.startswith(b"HTTP/1.1 200") and b'"systems"' in reply
        again = httpx.post(f"{url}/graphql", json=NORMAL)  # the queue drained: accepted again
        assert again.status_code == 200
        assert httpx.get(f"{url}/healthz").json()["load"] | {"oldest_wait_ms": 0} == {
            "active": 0, "queued": 0, "max_active": 1, "max_queue": 5, "shed_total": 1, "oldest_wait_ms": 0}


def test_a_queued_request_waits_at_most_the_queue_wait(service):
    queue = ShedQueue(max_active=1, max_queue=5, max_wait_s=0.2)
    with live_server(create_app(service.store, token=None, cors_origins=[], shed=queue, body_timeout_s=120)) as url:
        port = int(url.rsplit(":", 1)[1])
        body = json.dumps(NORMAL).encode()
        holder = _start_slow_request(port, body)
        deadline = time.monotonic() + 60
        while httpx.get(f"{url}/healthz").json()["load"]["active"] < 1:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        waited = httpx.post(f"{url}/graphql", json=NORMAL, timeout=60)  # slot never frees: refused
        assert waited.status_code == 503 and waited.headers["retry-after"] == "1"
        assert _finish(holder, body).startswith(b"HTTP/1.1 200")
