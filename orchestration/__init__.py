"""Dagster orchestration of kefu: `dagster dev -m orchestration` loads `defs`."""

from orchestration.definitions import defs

__all__ = ["defs"]
