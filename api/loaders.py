"""Per-request DataLoaders: many fields asking for the same result read the store once."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

from starlette.concurrency import run_in_threadpool
from strawberry.dataloader import DataLoader

from api.errors import LIMIT, ApiError
from api.limits import MAX_CELL_SERIES
from core.cell_queries import slice_sat
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
        self._cell_series_keys: set = set()
        # (system_id, group, pack, cell, start, end, resolution, max_points, method) -> core Series
        self.cell_series = DataLoader(self._cell_series_batch(s))
        # system_id -> the whole record's core CellAnalysis: SAT matrix, fits, trends, alerts, health in
        # one pass; a range is a slice of it (like QueryService.sat_matrix), never a new analysis. One
        # loader for all of them: separate ones would call the service concurrently for the same result.
        self.cell_analysis = DataLoader(_batch(s.cell_analysis))

    def _cell_series_batch(self, s: QueryService):
        """Each cell series is its own store read (core has no batched read yet), hence a cap per request,
        checked on the whole batch before anything is read."""

        async def load(keys: list) -> Sequence[Any]:
            self._cell_series_keys.update(keys)
            if len(self._cell_series_keys) > MAX_CELL_SERIES:
                error = ApiError(LIMIT, f"{len(self._cell_series_keys)} cell voltage/temperature series in one request, "
                                 f"at most {MAX_CELL_SERIES}: use Bess.cellVoltageMatrix or Bess.satVoltage for "
                                 "all cells at once")
                return [error] * len(keys)
            return await _batch(lambda k: s.cell_series(k[0], k[2], k[3], group=k[1], start=k[4], end=k[5],
                                                        resolution=k[6], max_points=k[7], method=k[8]))(keys)

        return load

    async def sat_matrix(self, system_id: str, start=None, end=None):  # noqa: ANN001, ANN201
        return slice_sat((await self.cell_analysis.load(system_id)).sat, start, end)

    async def analysis(self, system_id: str):  # noqa: ANN201
        """The whole record's cell analysis (drift, verdicts, alerts, ...)."""
        return await self.cell_analysis.load(system_id)

    async def degradation(self, system_id: str, method: str):  # noqa: ANN201
        analysis = await self.cell_analysis.load(system_id)
        return analysis.robust if method == "robust" else analysis.ols

    async def pack_health(self, system_id: str):  # noqa: ANN201
        return (await self.cell_analysis.load(system_id)).health

    async def pack_trends(self, system_id: str):  # noqa: ANN201
        return (await self.cell_analysis.load(system_id)).trends

    async def alerts(self, system_id: str):  # noqa: ANN201
        return (await self.cell_analysis.load(system_id)).alerts

    async def events(self, system_id: str):  # noqa: ANN201
        return (await self.cell_analysis.load(system_id)).events
