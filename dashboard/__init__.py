"""Dashboard: the single-page Panel app over core's query service."""
