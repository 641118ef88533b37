"""The query layer's input error, shared by the service and the series pipeline."""


class BadInputError(ValueError):
    """An argument of a query is out of range or malformed; the message names it."""
