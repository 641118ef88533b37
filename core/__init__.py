"""Core: Numba kernels, analytics and the one query service. Imports only `data`."""
