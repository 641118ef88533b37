"""Custom scalars: zone-aware DateTime and pass-through numeric arrays encoded by orjson."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NewType
from zoneinfo import ZoneInfo

import numpy as np
import strawberry
from graphql import GraphQLError

from data.glossary import LOCAL_TZ
from data.tzmap import local_instant

LOCAL = ZoneInfo(LOCAL_TZ)

DateTime = NewType("DateTime", datetime)
FloatArray = NewType("FloatArray", object)
TimestampArray = NewType("TimestampArray", object)


def parse_datetime(value: Any) -> datetime:
    """ISO 8601 text to an aware datetime; text without an offset is local time (data.tzmap.local_instant)."""
    if not isinstance(value, str):
        raise GraphQLError(f"DateTime must be an ISO 8601 string, got {type(value).__name__}",
                           extensions={"code": "BAD_INPUT"})
    try:
        t = datetime.fromisoformat(value.strip().replace("z", "Z"))
    except ValueError:
        raise GraphQLError(f"DateTime {value!r} is not ISO 8601 (e.g. 2024-05-01T00:00:00+02:00)",
                           extensions={"code": "BAD_INPUT"}) from None
    return local_instant(t)


def serialize_datetime(value: datetime) -> str:
    """An instant as ISO 8601 in Europe/Berlin with its offset, millisecond precision."""
    return value.astimezone(LOCAL).isoformat(timespec="milliseconds")


def _array(value: Any) -> Any:
    # orjson encodes contiguous NumPy arrays natively (NaN becomes null), so no copy to a list.
    if isinstance(value, np.ndarray):
        return np.ascontiguousarray(value)
    return list(value)


def _no_input(value: Any) -> Any:
    raise GraphQLError("array scalars are output only", extensions={"code": "BAD_INPUT"})


SCALARS = {
    DateTime: strawberry.scalar(
        name="DateTime",
        description="An instant as ISO 8601 text with its UTC offset, e.g. 2024-05-01T00:00:00.000+02:00. "
        "Output is Europe/Berlin local time; input without an offset is read as Europe/Berlin.",
        serialize=serialize_datetime,
        parse_value=parse_datetime,
    ),
    FloatArray: strawberry.scalar(
        name="FloatArray",
        description="A JSON array of numbers (floats); null marks a missing value or a gap. "
        "The unit is given by the field that holds it.",
        serialize=_array,
        parse_value=_no_input,
    ),
    TimestampArray: strawberry.scalar(
        name="TimestampArray",
        description="A JSON array of integers: epoch milliseconds (UTC), ascending. "
        "Integers beyond GraphQL's 32-bit Int, hence a scalar.",
        serialize=_array,
        parse_value=_no_input,
    ),
}
