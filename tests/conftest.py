"""Session fixtures shared by all test files: one real demo fleet, ingested once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from data.demo import generate_demo
from data.ingest import ingest


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    """The default small demo fleet (seed 7), written as real-layout CSV exports."""
    out = tmp_path_factory.mktemp("demo")
    generate_demo(out, seed=7, scale="small", progress=False)
    return out


@pytest.fixture(scope="session")
def demo_truth(demo_dir) -> dict:
    return json.loads((demo_dir / "ground_truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def demo_store(demo_dir, tmp_path_factory) -> Path:
    """The demo fleet ingested by the real ingest into a fresh store (read-only for tests)."""
    store = tmp_path_factory.mktemp("store")
    report = ingest([demo_dir], store, progress=False)
    assert report.exit_code == 0, report.format_text()
    return store


@pytest.fixture(scope="session")
def service(demo_store):
    from core.service import QueryService

    return QueryService(demo_store)


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium through Playwright, one per session: the sync API allows only one
    Playwright per process, so every browser test module shares this one."""
    from playwright.sync_api import sync_playwright

    from tests.dashboard_server import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing; `make browser` installs Debian's chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
