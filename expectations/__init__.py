"""Data-quality suites of the kefu warehouse, kept as Python data: expectations/tables.py
(the checked tables and the marts' shape, no GX import) and expectations/suites.py (the
Great Expectations 1.x suite of incoming batches; importing it loads GX)."""
