"""The loader behind `kefu load` (docs/landing.md §1), split by concern.

- `landing`: which files a load takes, in which order, and which it refuses;
- `readers`: content hash and encoding, then each format read into a VARCHAR temp table;
- `entities`: columns, their kinds, vocabularies and quarantine reasons;
- `mappings`: which header is which column, per export (YAML in kefu/mappings/ and the
  user's own); `inspect`: `kefu inspect FILE`, the loader's steps without writing;
- `transform`: the one SQL pass that types and checks every value;
- `registry`: raw.load_files (skip loaded contents, record rejected files);
- `run`: the per-file transaction; `report`: what a load did.
"""
