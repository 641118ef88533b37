"""Benchmarks behind `bess bench` / `make bench`: groups of timed rows against named baselines."""
