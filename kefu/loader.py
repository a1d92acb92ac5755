"""`kefu load`: ingest the landing zone into the raw schema (docs/landing.md §1).

The work is done in `kefu.loading`; this module is the stable entry point.
"""

from kefu.loading.report import FileResult, LoadReport, Outcome
from kefu.loading.run import CRASH_ENV, load_landing

__all__ = ["CRASH_ENV", "FileResult", "LoadReport", "Outcome", "load_landing"]
