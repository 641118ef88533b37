"""data/publish.py: version names, atomic publish, leftovers of killed runs, pruning, the lock."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from data.publish import (StoreLock, StoreLockedError, clean_leftovers, new_version_name, prune_versions, publish,
                          read_current, staging_dir, version_number)

NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def _publish(root, now=NOW) -> str:
    v = new_version_name(root, now)
    d = staging_dir(root, v)
    (d / "manifest.json").write_text("{}")
    publish(root, d, v)
    return v


def test_versions_count_up_and_current_follows(tmp_path):
    assert read_current(tmp_path) is None
    v1 = _publish(tmp_path)
    assert v1 == "000001-20250102T030405Z" and version_number(v1) == 1
    v2 = _publish(tmp_path)
    assert version_number(v2) == 2 and read_current(tmp_path) == v2
    assert (tmp_path / "versions" / v2 / "manifest.json").read_text() == "{}"
    assert not (tmp_path / "staging" / v2).exists()
    assert version_number("junk") == -1


def test_leftovers_of_a_killed_run_go_but_published_versions_stay(tmp_path):
    v1 = _publish(tmp_path)
    staging_dir(tmp_path, "000002-x")
    (tmp_path / "CURRENT.tmp-99").write_text("000002-x")
    (tmp_path / "versions" / "000003-renamed-not-published").mkdir()
    removed = clean_leftovers(tmp_path)
    assert sorted(p.rsplit("/", 1)[-1] for p in removed) == ["000002-x", "000003-renamed-not-published",
                                                             "CURRENT.tmp-99"]
    assert [p.name for p in (tmp_path / "versions").iterdir()] == [v1] and read_current(tmp_path) == v1


def test_prune_keeps_the_newest_and_never_current(tmp_path):
    names = [_publish(tmp_path) for _ in range(5)]
    (tmp_path / "CURRENT").write_text(names[0] + "\n")  # e.g. a rollback to the oldest
    removed = prune_versions(tmp_path, keep=2)
    assert sorted(removed) == sorted(names[1:3])
    left = sorted(p.name for p in (tmp_path / "versions").iterdir())
    assert left == sorted([names[0], names[3], names[4]])


def test_the_lock_is_exclusive_and_released(tmp_path):
    with StoreLock(tmp_path):
        with pytest.raises(StoreLockedError, match="another ingest is running"):
            StoreLock(tmp_path).__enter__()
    with StoreLock(tmp_path):
        pass
