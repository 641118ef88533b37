"""Error codes, limits and protections: NOT_FOUND, BAD_INPUT, LIMIT, masked internals, token, CORS, body cap."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.errors import INTERNAL_MESSAGE
from api.limits import MAX_ALIASES, MAX_CELL_SERIES, MAX_BODY_BYTES, MAX_POINTS, MAX_QUERY_CHARS, MAX_TOKENS
from core.service import QueryService
from data.glossary import SystemKind
from test_api_support import GraphQLClient, live_server


@pytest.fixture(scope="module")
def gql(service):
    with live_server(create_app(QueryService(service.store), token=None, cors_origins=[])) as url:
        client = GraphQLClient(url)
        yield client
        client.close()


@pytest.fixture(scope="module")
def ids(service):
    return {"meter": service.systems(SystemKind.METER)[0].id, "bess": service.systems(SystemKind.BESS)[0].id}


def code_of(error: dict) -> str:
    return error["extensions"]["code"]


# -- NOT_FOUND ------------------------------------------------------------------------------

@pytest.mark.parametrize("query, needle", [
    ('{ system(id: "nope") { id } }', "unknown system 'nope'"),
    ('{ system(id: "%(meter)s") { series(signal: "no_such") { values } } }', "no signal 'no_such'"),
    ('{ system(id: "%(bess)s") { ... on Bess { pack(index: 6) { index } } } }', "packs 1..5, not 6"),
    ('{ system(id: "%(bess)s") { ... on Bess { pack(index: 0) { index } } } }', "packs 1..5, not 0"),
    ('{ system(id: "%(bess)s") { ... on Bess { cell(pack: 1, index: 53) { label } } } }', "cells 1..52, not 53"),
    ('{ system(id: "%(bess)s") { ... on Bess { pack(index: 2) { cell(index: -1) { label } } } } }', "not -1"),
])
def test_unknown_things_are_not_found_with_a_clear_message(gql, ids, query, needle):
    err = gql.error(query % ids)
    assert code_of(err) == "NOT_FOUND"
    assert needle in err["message"]


# -- BAD_INPUT ------------------------------------------------------------------------------

@pytest.mark.parametrize("query, needle", [
    ('{ system(id: "%(meter)s") { kpis(from: "2024-02-01", to: "2024-01-01") { __typename } } }', "empty range"),
    ('{ system(id: "%(meter)s") { series(signal: "com_ap", from: "2024-01-01", to: "2024-01-01") { values } } }',
     "empty range"),
    ('{ system(id: "%(meter)s") { series(signal: "com_ap", from: "yesterday") { values } } }', "ISO 8601"),
    ('{ system(id: "%(meter)s") { series(signal: "com_ap", resolution: WEEKLY) { values } } }', "WEEKLY"),
    ('{ system(id: "%(meter)s") { nonsense } }', "nonsense"),
    ('{ system(id: "%(meter)s") { series(signal: "com_ap") ', "Syntax Error"),
    ('{ systems(kind: PLANT) { id } }', "PLANT"),
    ('{ system { id } }', "id"),
])
def test_malformed_arguments_and_queries_are_bad_input(gql, ids, query, needle):
    body = gql(query % ids)
    assert body["errors"] and all(code_of(e) == "BAD_INPUT" for e in body["errors"]), body
    assert any(needle in e["message"] for e in body["errors"])


def test_bad_datetime_in_a_variable_is_bad_input(gql, ids):
    q = 'query($f: DateTime) { system(id: "%s") { kpis(from: $f) { __typename } } }' % ids["meter"]
    err = gql.error(q, {"f": "2024-13-45"})
    assert code_of(err) == "BAD_INPUT" and "2024-13-45" in err["message"]


# -- LIMIT ----------------------------------------------------------------------------------

@pytest.mark.parametrize("args, needle", [
    ('maxPoints: 1', "maxPoints must be between 2"),
    (f'maxPoints: {MAX_POINTS + 1}', "maxPoints must be between 2"),
    ('from: "2000-01-01", to: "2024-01-01"', "exceeds the limit of"),
    ('from: "2023-10-01", to: "2024-06-01", resolution: RAW', "RAW is limited to"),
    ('from: "2024-01-01", to: "2024-03-01", resolution: FIFTEEN_MIN, maxPoints: 100, downsample: NONE',
     "exceed maxPoints=100"),
])
def test_points_and_ranges_are_capped(gql, ids, args, needle):
    err = gql.error('{ system(id: "%s") { series(signal: "com_ap", %s) { values } } }' % (ids["meter"], args))
    assert code_of(err) == "LIMIT" and needle in err["message"]


def test_matrix_columns_are_capped(gql, ids):
    err = gql.error('{ system(id: "%s") { ... on Bess { cellVoltageMatrix(resolution: FIFTEEN_MIN) { rows } } } }'
                    % ids["bess"])
    assert code_of(err) == "LIMIT" and "columns" in err["message"]


def test_per_cell_series_are_capped_per_request(gql, ids):
    q = '{ system(id: "%s") { ... on Bess { packs { cells { voltage(from: "2024-05-01", to: "2024-05-02") { values } } } } } }'
    body = gql(q % ids["bess"])
    codes = {e["extensions"]["code"] for e in body["errors"]}
    assert codes == {"LIMIT"} and body["data"]["system"] is None
    assert f"260 cell voltage/temperature series in one request, at most {MAX_CELL_SERIES}" in body["errors"][0]["message"]
    ok = '{ system(id: "%s") { ... on Bess { pack(index: 1) { cells { voltage(from: "2024-05-01", to: "2024-05-02") { values } } } } } }'
    assert len(gql.data(ok % ids["bess"])["system"]["pack"]["cells"]) == 52


def test_query_depth_is_capped(gql):
    deep = "{ systems " + "{ a " * 12 + "}" * 13
    body = gql(deep)
    assert any(code_of(e) == "LIMIT" and "depth" in e["message"] for e in body["errors"]), body


def test_aliases_are_capped(gql):
    ok = gql("{ " + " ".join(f"a{i}: systems {{ id }}" for i in range(MAX_ALIASES)) + " }")
    assert "errors" not in ok
    err = gql.error("{ " + " ".join(f"a{i}: systems {{ id }}" for i in range(MAX_ALIASES + 1)) + " }")
    assert code_of(err) == "LIMIT" and "aliases" in err["message"]


def test_tokens_and_query_length_are_capped(gql):
    many = "{ systems { " + "id " * MAX_TOKENS + "} }"
    err = gql.error(many)
    assert code_of(err) == "LIMIT" and "tokens" in err["message"]
    long = "{ systems { id } }" + " " * MAX_QUERY_CHARS
    err = gql.error(long)
    assert code_of(err) == "LIMIT" and "code points" in err["message"]


def test_request_body_is_capped(gql):
    big = {"query": "{ systems { id } }", "variables": {"pad": "x" * (MAX_BODY_BYTES + 1)}}
    r = gql.http.post("/graphql", json=big)
    assert r.status_code == 413 and code_of(r.json()["errors"][0]) == "LIMIT"

    def chunks():  # no content-length: the cap counts streamed bytes
        yield b'{"query": "{ systems { id } }", "variables": {"pad": "'
        for _ in range(MAX_BODY_BYTES // 1000 + 1):
            yield b"x" * 1000
        yield b'"}}'

    r = gql.http.post("/graphql", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


# -- internal errors are masked and logged ----------------------------------------------------

@pytest.fixture
def broken_store(demo_store, tmp_path) -> Path:
    """A copy of the store (symlinks) whose m1 15-min power file is garbage: reading it fails."""
    copy = tmp_path / "store"
    shutil.copytree(demo_store, copy, copy_function=os.symlink, ignore=shutil.ignore_patterns("staging", "*.lock"))
    version = (demo_store / "CURRENT").read_text().strip()
    victim = copy / "versions" / version / "systems" / "m1" / "15min" / "com_ap.parquet"
    victim.unlink()
    victim.write_bytes(b"this is not parquet")
    return copy


def test_internal_errors_are_masked_and_logged(broken_store, caplog):
    caplog.set_level(logging.INFO)
    with live_server(create_app(broken_store, token=None, cors_origins=[])) as url:
        client = GraphQLClient(url)
        body = client('{ system(id: "m1") { series(signal: "com_ap", resolution: FIFTEEN_MIN, '
                      'from: "2024-01-01", to: "2024-01-02") { values } } }')
        client.close()
    assert body["errors"] == [{"message": INTERNAL_MESSAGE, "extensions": {"code": "INTERNAL"}}]
    text = str(body)
    assert "Traceback" not in text and "parquet" not in text and "/" not in text.replace("/healthz", "")
    logged = [r for r in caplog.records if r.name == "bess.api" and r.levelno == logging.ERROR]
    assert logged and logged[0].exc_info is not None  # the traceback goes to the log


def test_no_store_is_unavailable_and_healthz_503(tmp_path):
    with live_server(create_app(tmp_path / "empty", token=None, cors_origins=[])) as url:
        r = httpx.get(f"{url}/healthz")
        assert r.status_code == 503 and r.json()["status"] == "unavailable"
        client = GraphQLClient(url)
        err = client.error("{ systems { id } }")
        client.close()
    assert code_of(err) == "UNAVAILABLE" and str(tmp_path) not in err["message"]


# -- token, CORS, request log ----------------------------------------------------------------

def test_bearer_token_guards_graphql(service, monkeypatch):
    monkeypatch.setenv("BESS_API_TOKEN", "s3cret-token")
    with live_server(create_app(service.store, cors_origins=[])) as url:  # token from the environment
        q = {"query": "{ systems { id } }"}
        none = httpx.post(f"{url}/graphql", json=q)
        assert none.status_code == 401 and none.headers["www-authenticate"] == "Bearer"
        assert code_of(none.json()["errors"][0]) == "UNAUTHENTICATED"
        wrong = httpx.post(f"{url}/graphql", json=q, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        basic = httpx.post(f"{url}/graphql", json=q, headers={"Authorization": "Basic s3cret-token"})
        assert basic.status_code == 401
        get = httpx.get(f"{url}/graphql", params=q)
        assert get.status_code == 401
        ok = httpx.post(f"{url}/graphql", json=q, headers={"Authorization": "Bearer s3cret-token"})
        assert ok.status_code == 200 and ok.json()["data"]["systems"]
        assert httpx.get(f"{url}/healthz").status_code == 200  # probes need no token
        # The GraphiQL page is behind the token too (issue 13): a browser is sent to the sign-in form.
        ide = httpx.get(f"{url}/graphql", headers={"Accept": "text/html"})
        assert ide.status_code == 303 and ide.headers["location"] == "/login?next=%2Fgraphql"
        for params in (q, {"%71uery": q["query"]}):  # a browser is sent to sign in, nothing is answered
            sneaky = httpx.get(f"{url}/graphql", params=params, headers={"Accept": "text/html"})
            assert sneaky.status_code == 303 and sneaky.headers["location"].startswith("/login?next=")
        encoded = httpx.get(f"{url}/graphql?%71uery=%7B%20systems%20%7B%20id%20%7D%20%7D", headers={"Accept": "text/html"})
        assert encoded.status_code == 303 and "systems" not in encoded.text


def test_no_token_configured_means_open(service, monkeypatch):
    monkeypatch.delenv("BESS_API_TOKEN", raising=False)
    with live_server(create_app(service.store, cors_origins=[])) as url:
        assert httpx.post(f"{url}/graphql", json={"query": "{ systems { id } }"}).status_code == 200


def test_cors_allows_only_configured_origins(service, monkeypatch):
    monkeypatch.setenv("BESS_CORS_ORIGINS", "https://ui.example, https://ops.example")
    with live_server(create_app(service.store, token="t")) as url:
        pre = httpx.options(f"{url}/graphql", headers={
            "Origin": "https://ui.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type"})
        assert pre.status_code == 200
        assert pre.headers["access-control-allow-origin"] == "https://ui.example"
        assert "authorization" in pre.headers["access-control-allow-headers"].lower()
        r = httpx.post(f"{url}/graphql", json={"query": "{ systems { id } }"},
                       headers={"Origin": "https://ops.example", "Authorization": "Bearer t"})
        assert r.headers["access-control-allow-origin"] == "https://ops.example"
        other = httpx.post(f"{url}/graphql", json={"query": "{ systems { id } }"},
                           headers={"Origin": "https://evil.example", "Authorization": "Bearer t"})
        assert "access-control-allow-origin" not in other.headers


def test_one_log_line_per_request_with_its_duration(gql, caplog):
    caplog.set_level(logging.INFO, logger="bess.http")
    gql.data("{ systems { id } }")
    gql.http.get("/healthz")
    lines = [r.getMessage() for r in caplog.records if r.name == "bess.http"]
    assert len(lines) == 2
    assert lines[0].startswith("POST /graphql 200 ") and " ms " in lines[0]
    assert lines[1].startswith("GET /healthz 200 ")
