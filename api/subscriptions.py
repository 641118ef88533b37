"""GraphQL subscriptions (graphql-transport-ws): a message for each newly published store version."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from starlette.concurrency import run_in_threadpool

from data.store import StoreError, open_snapshot

MIN_POLL_S = 0.5
MAX_POLL_S = 60.0


@strawberry.type(description="One published version of the store.")
class StoreVersion:
    version: str = strawberry.field(description="The version id, as /healthz and `bess info` show it.")


def _published(store) -> str | None:  # noqa: ANN001
    try:
        return open_snapshot(store).version
    except StoreError:  # nothing published yet (or being replaced): no message
        return None


@strawberry.type(description="Live updates over a websocket at /graphql (protocol graphql-transport-ws).")
class Subscription:
    @strawberry.subscription(description="The published store version now, then each new one as an ingest publishes "
                             "it: a client refreshes what it shows when a message arrives.")
    async def store_version(self, info: strawberry.Info, poll_seconds: Annotated[float, strawberry.argument(
            description="How often the server looks for a new version [s], 0.5..60.")] = 2.0
    ) -> AsyncGenerator[StoreVersion, None]:
        poll = min(max(float(poll_seconds), MIN_POLL_S), MAX_POLL_S)
        store = info.context.service.store
        last = None
        while True:
            # CURRENT is one small file: reading it is cheap, and every server process sees the
            # same publish (no message bus needed between processes behind a balancer).
            version = await run_in_threadpool(_published, store)
            if version is not None and version != last:
                last = version
                yield StoreVersion(version=version)
            await asyncio.sleep(poll)
