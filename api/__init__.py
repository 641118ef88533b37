"""API: the Strawberry GraphQL schema, the `bess` CLI and the server composition root."""
