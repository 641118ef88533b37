"""The GraphQL schema (Query root); `python -m api.schema` prints its SDL for schema.graphql."""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import strawberry
from strawberry.schema.config import StrawberryConfig

from api.cells import Cell, Pack
from api.errors import ShapeErrors, log_errors
from api.fleet import FleetRow, FleetSort
from api.limits import schema_extensions
from api.scalars import SCALARS
from api.subscriptions import Subscription
from api.systems import Bess, Meter, System, system_of
from api.types import SystemKind
from core.results import SystemInfo
from data.glossary import SystemKind as CoreKind


@strawberry.type(description="Entry point: systems of the fleet, each with its signals, series, KPIs and cells.")
class Query:
    @strawberry.field(description="All systems, optionally only meters or only BESS, sorted by id.")
    async def systems(self, info: strawberry.Info, kind: Annotated[SystemKind | None, strawberry.argument(
            description="METER or BESS; null for all.")] = None) -> list[System]:
        core_kind = CoreKind(kind.value) if kind is not None else None
        infos: list[SystemInfo] = await info.context.call(info.context.service.systems, core_kind)
        return [system_of(i) for i in infos]

    @strawberry.field(description="One system by id; an unknown id is a NOT_FOUND error.")
    async def system(self, info: strawberry.Info,
                     id: Annotated[strawberry.ID, strawberry.argument(description="System id.")]) -> System | None:
        return system_of(await info.context.call(info.context.service.system, str(id)))


    @strawberry.field(description="Every system in one row: cells by severity, the worst cell and its drift, pack "
                      "events, cycles, SOH, data coverage and ingest problems; most urgent first by default.")
    async def fleet(self, info: strawberry.Info, sort_by: Annotated[FleetSort, strawberry.argument(
            description="RISK (default) or ID.")] = FleetSort.RISK) -> list[FleetRow]:
        rows = await info.context.call(info.context.service.fleet)
        if sort_by is FleetSort.ID:
            rows = sorted(rows, key=lambda r: r.system_id)
        return [FleetRow.of(r) for r in rows]


class BessSchema(strawberry.Schema):
    """Logs internal errors with their traceback and client errors as one line (see api.errors)."""

    def process_errors(self, errors, execution_context=None) -> None:  # noqa: ANN001
        log_errors(errors)


def build_schema() -> strawberry.Schema:
    return BessSchema(
        query=Query,
        subscription=Subscription,
        types=[Meter, Bess, Pack, Cell],
        extensions=[*schema_extensions(), ShapeErrors],
        config=StrawberryConfig(scalar_map=SCALARS),
    )


schema = build_schema()


def sdl() -> str:
    """The schema's SDL, as kept in schema.graphql."""
    return schema.as_str() + "\n"


if __name__ == "__main__":
    logging.disable(logging.CRITICAL)
    sys.stdout.write(sdl())
