"""api/http.py: the health summary from the catalog, and the settings read from the environment."""

from __future__ import annotations

import json
import shutil

from api.http import cors_origins_from_env, health, token_from_env
from core.service import QueryService
from data.ingest import ingest
from data.store import open_snapshot
from tests.ingest_fixtures import make_fleet


def test_health_reports_the_published_manifest(tmp_path):
    make_fleet(tmp_path / "exports", days=1)
    assert ingest([tmp_path / "exports"], tmp_path / "store", progress=False).exit_code == 0
    snap = open_snapshot(tmp_path / "store")
    manifest = json.loads((snap.path / "manifest.json").read_text(encoding="utf-8"))
    status, body = health(QueryService(tmp_path / "store"))
    assert status == 200 and body["status"] == "ok"
    store = dict(body["store"])
    assert isinstance(store.pop("checksums_verified"), bool)
    assert store == {"version": manifest["version"], "manifest_version": manifest["manifest_version"],
                     "pipeline_version": manifest["pipeline_version"],
                     "created_utc": manifest["created_utc"], "systems": len(manifest["systems"])}
    assert body["store"]["systems"] == 2


def test_health_is_503_without_a_store_or_with_a_broken_manifest(tmp_path):
    status, body = health(QueryService(tmp_path / "none"))
    assert status == 503 and body["status"] == "unavailable" and body["store"] is None
    assert "bess ingest" in body["reason"]
    make_fleet(tmp_path / "exports", days=1)
    ingest([tmp_path / "exports"], tmp_path / "store", progress=False)
    snap = open_snapshot(tmp_path / "store")
    (snap.path / "manifest.json").write_text("{ not json", encoding="utf-8")
    status, body = health(QueryService(tmp_path / "store"))
    assert status == 503 and body["store"] is None
    shutil.rmtree(tmp_path / "store")


def test_token_and_cors_origins_from_the_environment(monkeypatch):
    monkeypatch.delenv("BESS_API_TOKEN", raising=False)
    monkeypatch.delenv("BESS_CORS_ORIGINS", raising=False)
    assert token_from_env() is None and cors_origins_from_env() == []
    monkeypatch.setenv("BESS_API_TOKEN", "  s3cret \n")
    monkeypatch.setenv("BESS_CORS_ORIGINS", " https://a.example, ,https://b.example ")
    assert token_from_env() == "s3cret"
    assert cors_origins_from_env() == ["https://a.example", "https://b.example"]
    monkeypatch.setenv("BESS_API_TOKEN", "   ")
    assert token_from_env() is None
