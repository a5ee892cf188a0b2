"""Chiplet DSE: design-space exploration for heterogeneous chiplet systems."""

__version__ = "0.1.0"
