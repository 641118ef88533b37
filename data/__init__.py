"""Data layer: discovery, parsing, pyramid store, demo fleet. Imports no other layer."""
