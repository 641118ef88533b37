"""A per-request budget of rows read and points returned, summed over every field and alias, checked
before execution (a validation rule), so a refused request reads nothing."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone

from graphql import (
    FieldNode, FragmentDefinitionNode, FragmentSpreadNode, GraphQLError, GraphQLSchema, InlineFragmentNode,
    OperationDefinitionNode, SelectionSetNode, ValidationContext, ValidationRule,
)
from graphql.execution.values import get_argument_values, get_variable_values
from strawberry.extensions import SchemaExtension

from api.args import checked_series_range
from api.errors import LIMIT, ApiError
from api.limits import MAX_MATRIX_COLUMNS, MAX_REQUEST_POINTS, MAX_REQUEST_ROWS, check_points
from api.types import Resolution
from core.series import choose_level
from data.catalog import Catalog, parse_utc
from core.results import SystemInfo
from data.glossary import LEVEL_SECONDS
from data.store import StoreError

log = logging.getLogger("bess.api")

# Fields that read a series: (parent type, field) -> store unit, None = the field's `signal` argument.
_SERIES = {("System", "series"): None, ("Meter", "series"): None, ("Bess", "series"): None,
           ("Cell", "voltage"): "cell_v", ("Cell", "temperature"): "cell_t"}
_MAX_WALK_NODES = 200_000  # fragments expanded; the fan-out rule caps real documents far below


@dataclass
class Cost:
    """Estimated rows read and points returned by one request, and the costliest fields."""

    rows: float = 0.0
    points: float = 0.0
    fields: int = 0
    nodes: int = 0
    top: list[tuple[float, str]] = field(default_factory=list)

    def add(self, rows: float, points: float, where: str, times: int) -> None:
        self.rows += rows * times
        self.points += points * times
        self.fields += times
        self.top.append((rows * times, where))


def output_stats(catalog: Catalog) -> dict[tuple[str, str, str], tuple[int, float, float]]:
    """(system, unit, level) -> (rows, first ts, last ts) [epoch s] of every output of the version."""
    out = {}
    for system in catalog.systems:
        for unit, entry in system.units.items():
            for level, written in entry.outputs.items():
                if written.ts_min and written.ts_max:  # an empty output: nothing to read
                    out[(system.id, unit, level)] = (int(written.rows), parse_utc(written.ts_min).timestamp(),
                                                     parse_utc(written.ts_max).timestamp())
    return out


def rows_in_window(stats: tuple[int, float, float], lo: float, hi: float) -> float:
    """Rows of an output inside [lo, hi), assuming its rows are spread evenly over its time range."""
    rows, t0, t1 = stats
    if hi <= t0 or lo > t1:
        return 0.0
    if t1 <= t0:
        return float(rows)
    return rows * (min(hi, t1) - max(lo, t0)) / (t1 - t0)


def _ts(value) -> float | None:  # noqa: ANN001
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()
    return None


def _enum(value) -> str:  # noqa: ANN001
    return str(getattr(value, "value", value))


class Estimator:
    """Walks one operation with fragments expanded and adds up what its reading fields will cost."""

    def __init__(self, schema: GraphQLSchema, document, variables: dict | None, operation_name: str | None,
                 service) -> None:  # noqa: ANN001
        self.schema, self.service = schema, service
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        self.operation = next((o for o in ops if o.name and o.name.value == operation_name), None) \
            if operation_name else (ops[0] if len(ops) == 1 else None)
        self.raw_variables = variables or {}
        self.cost = Cost()
        snap = service.snapshot()
        self.stats = service.cached(snap, ("budget-stats",), lambda: output_stats(snap.catalog()))

    def estimate(self) -> Cost | None:
        """The cost, or None when it cannot be told before execution (bad variables: execution says why)."""
        if self.operation is None or self.operation.operation.value != "query":
            return None
        coerced = get_variable_values(self.schema, self.operation.variable_definitions or [], self.raw_variables)
        if isinstance(coerced, list):
            return None
        self.variables = coerced
        self._walk(self.operation.selection_set, "Query", None, 1, set())
        return self.cost

    def _args(self, type_name: str, node: FieldNode) -> dict:
        gql_type = self.schema.get_type(type_name)
        field_def = getattr(gql_type, "fields", {}).get(node.name.value)
        if field_def is None:
            return {}
        return get_argument_values(field_def, node, self.variables)

    def _applies(self, condition, type_name: str) -> bool:  # noqa: ANN001
        return condition is None or condition.name.value in (type_name, "System")

    def _walk(self, sel: SelectionSetNode | None, type_name: str, system: SystemInfo | None, times: int,
              active: set[str]) -> None:
        if sel is None or times == 0:
            return
        for node in sel.selections:
            self.cost.nodes += 1
            if self.cost.nodes > _MAX_WALK_NODES:
                raise RecursionError("document too large to estimate")
            if isinstance(node, InlineFragmentNode):
                if self._applies(node.type_condition, type_name):
                    self._walk(node.selection_set, type_name, system, times, active)
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                frag = self.fragments.get(name)
                if frag is not None and name not in active and self._applies(frag.type_condition, type_name):
                    self._walk(frag.selection_set, type_name, system, times, active | {name})
            elif isinstance(node, FieldNode):
                self._field(node, type_name, system, times, active)

    def _field(self, node: FieldNode, type_name: str, system: SystemInfo | None, times: int, active: set[str]) -> None:
        name = node.name.value
        where = node.alias.value if node.alias else name
        if type_name == "Query" and name == "systems":
            kind = self._args("Query", node).get("kind")
            for info in self.service.systems():
                if kind is None or info.kind.value == _enum(kind):
                    self._walk(node.selection_set, _type_of(info), info, times, active)
        elif type_name == "Query" and name == "system":
            try:
                info = self.service.system(str(self._args("Query", node).get("id")))
            except KeyError:  # unknown: NOT_FOUND at execution, reads nothing
                return
            self._walk(node.selection_set, _type_of(info), info, times, active)
        elif system is None:
            return
        elif (type_name, name) in _SERIES:
            args = self._args(type_name, node)
            unit = _SERIES[(type_name, name)] or str(args.get("signal"))
            rows, points = self._series(system, unit, args, per_cell=type_name == "Cell")
            self.cost.add(rows, points, f"{where} ({system.id} {unit})", times)
        elif type_name == "Bess" and name == "cellVoltageMatrix":
            args = self._args(type_name, node)
            lo, hi = self._window(system, args)
            level = _enum(args.get("resolution", "1d"))
            level = "1d" if level == "auto" else level
            if level == "raw" or (hi - lo) / LEVEL_SECONDS[level] > MAX_MATRIX_COLUMNS:
                return  # the field's own cap refuses it, before any read, with its own message
            rows = rows_in_window(self.stats.get((system.id, "cell_v", level), (0, 0.0, 0.0)), lo, hi)
            self.cost.add(rows, rows, f"{where} ({system.id})", times)
        elif type_name == "Bess" and name == "packs":
            self._walk(node.selection_set, "Pack", system, times * system.packs, active)
        elif type_name == "Pack" and name == "cells":
            self._walk(node.selection_set, "Cell", system, times * system.cells_per_pack, active)
        elif (type_name, name) in (("Bess", "pack"), ("Bess", "cell"), ("Pack", "cell")):
            self._walk(node.selection_set, "Cell" if name == "cell" else "Pack", system, times, active)

    def _window(self, system: SystemInfo, args: dict) -> tuple[float, float]:
        r = system.time_range
        if r is None:
            return 0.0, 0.0
        lo, hi = _ts(args.get("from_", args.get("from"))), _ts(args.get("to"))
        return max(lo, r.start.timestamp()) if lo is not None else r.start.timestamp(), \
            min(hi, r.end.timestamp()) if hi is not None else r.end.timestamp()

    def _series(self, system: SystemInfo, unit: str, args: dict, *, per_cell: bool) -> tuple[float, float]:
        lo, hi = self._window(system, args)
        if hi <= lo:
            return 0.0, 0.0
        max_points = int(args.get("maxPoints", args.get("max_points", 2000)))
        try:  # what a field's own caps refuse (before any read, with their own message) costs nothing
            checked_series_range(system, args.get("from_", args.get("from")), args.get("to"),
                                 Resolution(_enum(args.get("resolution", "auto"))))
            check_points(max_points)
        except ApiError:
            return 0.0, 0.0
        levels = tuple(lv for lv in LEVEL_SECONDS if (system.id, unit, lv) in self.stats)
        if not levels:
            return 0.0, 0.0  # unknown signal: NOT_FOUND at execution
        resolution = _enum(args.get("resolution", "auto"))
        level = choose_level(hi - lo, max(max_points, 1), levels) if resolution == "auto" else resolution
        rows = rows_in_window(self.stats.get((system.id, unit, level), (0, 0.0, 0.0)), lo, hi)
        if per_cell:  # one cell's rows of the all-cells table
            rows /= max(system.packs * system.cells_per_pack, 1)
        return rows, min(rows, max_points)


def _type_of(info: SystemInfo) -> str:
    return "Bess" if info.kind.value == "bess" else "Meter"


def budget_error(cost: Cost) -> GraphQLError | None:
    """The LIMIT error of a request over budget, naming its numbers and its costliest fields."""
    if cost.rows <= MAX_REQUEST_ROWS and cost.points <= MAX_REQUEST_POINTS:
        return None
    worst = ", ".join(w for _, w in sorted(cost.top, reverse=True)[:3])
    return GraphQLError(
        f"request over budget: its {cost.fields} reading fields would read about {cost.rows:,.0f} rows "
        f"(limit {MAX_REQUEST_ROWS:,} per request) and return about {cost.points:,.0f} points "
        f"(limit {MAX_REQUEST_POINTS:,}); costliest: {worst}. Ask for fewer aliases, shorter ranges or "
        "coarser resolutions, or split the request", extensions={"code": LIMIT})


class RequestBudget(SchemaExtension):
    """Adds, per operation, a validation rule that refuses a request over the budget before execution."""

    def on_operation(self) -> Iterator[None]:
        ec = self.execution_context
        service = getattr(ec.context, "service", None)
        if service is not None:
            ec.validation_rules = ec.validation_rules + (_rule(ec, service),)
        yield


def _rule(ec, service) -> type[ValidationRule]:  # noqa: ANN001
    class BudgetRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            if context.document is None:
                return
            try:
                cost = Estimator(context.schema, context.document, ec.variables, ec.operation_name,
                                 service).estimate()
            except (GraphQLError, StoreError) as exc:  # bad arguments (execution says why) or no store
                log.debug("request budget not estimated: %s", exc)
                return
            except Exception:  # noqa: BLE001 -- never fail a request for the estimate; say so in the log
                log.warning("request budget not estimated", exc_info=True)
                return
            error = budget_error(cost) if cost is not None else None
            if error is not None:
                log.info("refused over budget: %s rows, %s points", f"{cost.rows:,.0f}", f"{cost.points:,.0f}")
                context.report_error(error)

    return BudgetRule
