"""The one server: `bess serve` as a subprocess (dashboard, GraphQL, health), and the README's GraphQL examples."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from api.server import build_app
from core.service import QueryService
from test_api_support import GraphQLClient, live_server

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)


@pytest.fixture(scope="module")
def readme_client(service):
    with live_server(build_app(QueryService(service.store), warm=False, dashboard=False)) as url:
        client = GraphQLClient(url)
        yield client
        client.close()


def test_readme_examples_work_as_shown(readme_client):
    blocks = _blocks("graphql")
    assert len(blocks) >= 8
    variables = json.loads(re.search(r"with variables `(\{.*?\})`", README.read_text(encoding="utf-8")).group(1))
    expected_error = json.loads(_blocks("json")[-1])
    for query in blocks:
        body = readme_client(query, variables if query.lstrip().startswith("query Power") else None)
        if "pack: 6" in query:
            assert body == expected_error
            continue
        assert "errors" not in body, (query, body.get("errors"))
        if query.lstrip().startswith("query Power"):
            assert len(body["data"]["system"]["series"]["timestampsMs"]) == 92  # the 23-hour DST day
        if "satVoltage { rows columns values }" in query:
            m = body["data"]["system"]["satVoltage"]
            assert len(m["rows"]) == 260 and len(m["values"]) == 260 * len(m["columns"])


def test_readme_curl_example(readme_client):
    (curl,) = _blocks("sh")
    payload = json.loads(re.search(r"-d '(.*)'", curl).group(1))
    r = readme_client.http.post("/graphql", json=payload)
    assert r.status_code == 200 and r.json()["data"]["systems"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_bess_serve_serves_dashboard_graphql_and_health(demo_store, tmp_path):
    port = _free_port()
    log = tmp_path / "serve.log"
    env = {**os.environ, "BESS_API_TOKEN": "", "BESS_CORS_ORIGINS": ""}
    with open(log, "w") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                                 "--store", str(demo_store)], stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                if httpx.get(f"{url}/healthz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        health = httpx.get(f"{url}/healthz").json()
        assert health["status"] == "ok" and health["store"]["version"] == (demo_store / "CURRENT").read_text().strip()
        page = httpx.get(f"{url}/", timeout=60)
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert "bokeh" in page.text.lower() or "panel" in page.text.lower()  # the dashboard, not a placeholder
        ide = httpx.get(f"{url}/graphql", headers={"Accept": "text/html"})
        assert ide.status_code == 200 and "graphiql" in ide.text.lower()
        r = httpx.post(f"{url}/graphql", json={"query": "{ systems { id } }"})
        assert r.status_code == 200 and len(r.json()["data"]["systems"]) >= 9
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
    text = log.read_text()
    assert code in (0, -signal.SIGTERM), text  # uvicorn re-raises SIGTERM after a graceful shutdown
    assert "Application shutdown complete" in text
    assert f"GraphQL:   http://localhost:{port}/graphql" in text
    assert re.search(r"POST /graphql 200 [\d.]+ ms", text)  # one log line per request, with its duration
    assert "warm-up done" in text
    # start-up objects are left out of garbage collections (a full one took 0.45 s per closed page)
    frozen = re.search(r"start-up heap frozen: (\d+) objects", text)
    assert frozen and int(frozen.group(1)) > 10_000, text
