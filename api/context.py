"""The typed per-request context: the query service, fresh DataLoaders and the request."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

from starlette.concurrency import run_in_threadpool

from api.loaders import Loaders
from core.service import QueryService

T = TypeVar("T")


@dataclass
class Context:
    """What every resolver sees as ``info.context``; built anew for each request."""

    service: QueryService
    loaders: Loaders = field(init=False)
    request: Any = None
    response: Any = None

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.service)

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking service call in the thread pool so the event loop keeps serving."""
        return await run_in_threadpool(fn, *args, **kwargs)
