"""Per-request DataLoaders: many fields asking for the same result read the store once."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

from starlette.concurrency import run_in_threadpool
from strawberry.dataloader import DataLoader

from core.service import QueryService


def _batch(fn: Callable[[Hashable], Any]) -> Callable[[list], Any]:
    """A batch function that answers every key in one thread hop; a failure stays with its key."""

    def run_all(keys: list) -> Sequence[Any]:
        out: list[Any] = []
        for key in keys:
            try:
                out.append(fn(key))
            except Exception as exc:  # noqa: BLE001 -- DataLoader hands it to that key's field
                out.append(exc)
        return out

    async def load(keys: list) -> Sequence[Any]:
        return await run_in_threadpool(run_all, keys)

    return load


class Loaders:
    """DataLoaders of one request, keyed by the full argument tuple (never shared across requests).

    The 260 cells of a BESS asking for their SAT row or fit share one key, hence one call of
    the service (one read of the store) per request.
    """

    def __init__(self, service: QueryService) -> None:
        s = service
        # (system_id, group, pack, cell, start, end, resolution, max_points, method) -> core Series
        self.cell_series = DataLoader(_batch(lambda k: s.cell_series(
            k[0], k[2], k[3], group=k[1], start=k[4], end=k[5], resolution=k[6], max_points=k[7], method=k[8])))
        # (system_id, start, end) -> core SatMatrix (cells x local days)
        self.sat_matrix = DataLoader(_batch(lambda k: s.sat_matrix(k[0], k[1], k[2])))
        # (system_id, method) -> core CellFits
        self.degradation = DataLoader(_batch(lambda k: s.degradation(k[0], k[1])))
        # system_id -> per-pack results
        self.pack_health = DataLoader(_batch(s.pack_health))
        self.pack_trends = DataLoader(_batch(s.pack_trends))
