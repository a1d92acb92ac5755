"""Data-quality suites (Great Expectations 1.x) of the kefu warehouse, kept as Python data."""

from expectations.suites import SUITES, Check, TableSuite

__all__ = ["SUITES", "Check", "TableSuite"]
