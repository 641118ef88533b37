"""Error codes of the API: client errors keep their message, internal errors are masked and logged."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from core.service import BadInputError
from data.store import CorruptDataError, NotFoundError, StoreError

log = logging.getLogger("bess.api")

NOT_FOUND = "NOT_FOUND"
BAD_INPUT = "BAD_INPUT"
LIMIT = "LIMIT"
UNAVAILABLE = "UNAVAILABLE"
INTERNAL = "INTERNAL"

INTERNAL_MESSAGE = "Internal server error; it has been logged."
MAX_MESSAGE_CHARS = 500
UNAVAILABLE_MESSAGE = "The data store is not available (nothing published yet); see /healthz."
# Messages of the parser and of Strawberry's limit validators (tests pin each one).
_LIMIT_RE = re.compile(
    r"Document contains more than \d+ (tokens|comments)|Source contains more than \d+ code points"
    r"|exceeds maximum operation depth|aliases found\. Allowed"
)


# Exceptions that, raised while parsing, validating or coercing the request, mean bad input.
_INPUT_ERRORS = (GraphQLError, ValueError, TypeError, OverflowError, RecursionError)


class ApiError(Exception):
    """An error raised by the API layer itself, with its extensions.code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def classify(error: GraphQLError) -> str:
    """The extensions.code of one GraphQL error (INTERNAL for anything unexpected)."""
    orig = error.original_error
    if isinstance(orig, ApiError):
        return orig.code
    if isinstance(orig, NotFoundError):
        return NOT_FOUND
    if isinstance(orig, BadInputError):
        return BAD_INPUT
    if isinstance(orig, CorruptDataError):  # a file failed its checksum: the operator's problem, not the client's
        return INTERNAL
    if isinstance(orig, StoreError):
        return UNAVAILABLE
    if isinstance(orig, GraphQLError) and (orig.extensions or {}).get("code"):
        return orig.extensions["code"]
    if error.path is None and isinstance(orig, _INPUT_ERRORS):
        # Before execution (no path) the only input is the client's: a variable that does not coerce
        # (NaN, 1.5 or [1] for Int!), a 5,000-digit literal (ValueError), input nested too deeply.
        return BAD_INPUT
    if orig is None:
        if (error.extensions or {}).get("code"):
            return error.extensions["code"]
        if _LIMIT_RE.search(error.message):
            return LIMIT
        # Syntax, validation and argument coercion errors come before execution and have no path.
        if error.path is None:
            return BAD_INPUT
    return INTERNAL


def shape(error: GraphQLError) -> GraphQLError:
    """The error as the client sees it: a clear message and a code; internals masked."""
    code = classify(error)
    if code == INTERNAL:
        return GraphQLError(INTERNAL_MESSAGE, extensions={"code": code})
    if code == UNAVAILABLE:
        return GraphQLError(UNAVAILABLE_MESSAGE, path=error.path, extensions={"code": code})
    message = error.message
    if len(message) > MAX_MESSAGE_CHARS:  # a 5,000-digit literal is not echoed back in full
        message = message[:MAX_MESSAGE_CHARS] + "…"
    return GraphQLError(message, nodes=error.nodes, source=error.source, positions=error.positions,
                        path=error.path, extensions={"code": code})


def log_errors(errors: list[GraphQLError]) -> None:
    """Internal errors with their traceback; client errors as one short line each."""
    for error in errors:
        code = classify(error)
        if code in (INTERNAL, UNAVAILABLE):
            orig = error.original_error
            log.error("graphql %s at %s: %s", code, error.path, error.message,
                      exc_info=(type(orig), orig, orig.__traceback__) if orig else None)
        else:
            log.info("graphql %s: %s", code, error.message)


class ShapeErrors(SchemaExtension):
    """Replaces every error of a result by its shaped form (see :func:`shape`)."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and getattr(result, "errors", None):
            result.errors = [shape(e) for e in result.errors]
