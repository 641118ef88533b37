"""Caps that keep one request cheap: query size and shape, points, ranges and body size."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter, SchemaExtension

from api.errors import LIMIT, ApiError
from api.fanout import FragmentFanoutLimiter

MAX_DEPTH = 10  # deepest real query: system > pack > cells > fit > field is 5
MAX_ALIASES = 30
MAX_TOKENS = 2_000
MAX_COMMENTS = 200
MAX_QUERY_CHARS = 20_000
MAX_BODY_BYTES = 64 * 1024
# Deepest JSON nesting of a request body; real variables nest 2 or 3 levels.
MAX_JSON_DEPTH = 64
# A body that has not arrived in full within this time is refused (408).
BODY_READ_TIMEOUT_S = 10.0
# Per-request budgets, stricter by design than the in-process caps of core.series
# (MAX_POINTS 100,000, MAX_MATRIX_COLUMNS 20,000) that the dashboard uses: a remote
# request must stay cheap however it is written.
MAX_POINTS = 10_000
MAX_RANGE_DAYS = 3_660
MAX_CELL_SERIES = 104  # two packs of per-cell series in one request
MAX_MATRIX_COLUMNS = 2_000  # 260 cells x 2,000 bins = 520,000 values
# Raw data has no fixed step (1 s on some exports): its window is capped in days instead.
MAX_RAW_DAYS = 92
# Rows a series at an aggregated level may read before downsampling.
MAX_ROWS_READ = 2_000_000
# One request's budget, summed over all its fields (aliases included), checked before any read
# (api/budget.py): rows read from the store (~16 B each as arrays, a few hundred MB at the cap) and points or
# matrix values returned (~20 B each as JSON). 8 M rows: one RAW series of 1-second data over the
# longest RAW window (92 days, 7.95 M rows) fits, two do not.
MAX_REQUEST_ROWS = 8_000_000
MAX_REQUEST_POINTS = 1_000_000


class ParseLimits(SchemaExtension):
    """Bounds the parser: tokens, comments and source length (before any validation)."""

    def on_operation(self) -> Iterator[None]:
        opts = self.execution_context.parse_options
        opts["max_lexical_tokens"] = MAX_TOKENS
        opts["max_comments"] = MAX_COMMENTS
        opts["max_source_length"] = MAX_QUERY_CHARS
        yield


def schema_extensions() -> list:
    """Fresh limit extensions for one schema."""
    from api.budget import RequestBudget

    return [ParseLimits, lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
            lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES), FragmentFanoutLimiter, RequestBudget]


def check_points(max_points: int) -> int:
    if not 2 <= max_points <= MAX_POINTS:
        raise ApiError(LIMIT, f"maxPoints must be between 2 and {MAX_POINTS}, got {max_points}")
    return max_points


def check_range(start: datetime | None, end: datetime | None, *, step_s: float | None = None) -> None:
    """A range is at most MAX_RANGE_DAYS long (MAX_RAW_DAYS for raw data, ``step_s`` 0) and reads at
    most MAX_ROWS_READ rows at ``step_s`` seconds per row."""
    if start is None or end is None:
        return
    days = (end - start).total_seconds() / 86_400
    if days > MAX_RANGE_DAYS:
        raise ApiError(LIMIT, f"range of {days:.0f} days exceeds the limit of {MAX_RANGE_DAYS} days")
    if step_s == 0 and days > MAX_RAW_DAYS:
        raise ApiError(LIMIT, f"resolution RAW is limited to {MAX_RAW_DAYS} days, the range is {days:.0f} days: "
                       "choose a coarser resolution or a shorter range")
    if step_s:
        rows = (end - start).total_seconds() / step_s
        if rows > MAX_ROWS_READ:
            raise ApiError(LIMIT, f"range of {days:.0f} days at this resolution would read about {rows:,.0f} rows; "
                           f"the limit is {MAX_ROWS_READ:,}: choose a coarser resolution or a shorter range")
