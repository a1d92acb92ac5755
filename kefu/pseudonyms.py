"""Keyed buyer pseudonyms: HMAC-SHA256 of the buyer id with a secret key.

The key comes from `KEFU_PSEUDONYM_KEY` (the key itself) or `KEFU_PSEUDONYM_KEY_FILE` (a
file outside the project holding it). Whenever a key is set, every build publishes
`hmac_sha256(key, buyer_id)` (hex) as the buyer id of the marts; without a key the marts
carry the ids as exported, and asking for pseudonyms (dbt var `pseudonymise_buyers`)
without a key fails the build. The same key gives the same pseudonym every night; another
key, other pseudonyms. Without the key, a dictionary of candidate nicks cannot be joined
to the marts (an unkeyed sha256 could: hash every candidate and compare).

DuckDB has no HMAC function and the key must not pass through dbt (its vars land in
target/ files and logs), so `refresh_pseudonyms` computes the pseudonyms here, before each
build, into `private.buyer_pseudonyms` (raw_buyer_id -> pseudonym, only for ids found in the
raw layer, which holds the originals anyway) and `private.pseudonym_settings` (whether a
key is set, a keyed check value telling whether the key changed, and whether a build of
every day has finished since). The dbt macro
`kefu_buyer_key` looks the pseudonym up. The key itself is stored nowhere.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

import duckdb
import pyarrow as pa

from kefu.paths import PROJECT_DIR

KEY_ENV = "KEFU_PSEUDONYM_KEY"
KEY_FILE_ENV = "KEFU_PSEUDONYM_KEY_FILE"
SCHEMA = "private"
_CHECK_MESSAGE = b"kefu pseudonym key check"
BUYER_SOURCES = ("messages", "orders", "ratings", "filters")


class PseudonymKeyError(RuntimeError):
    """The pseudonym key is set but unusable (key file unreadable, empty or in the repo)."""


def pseudonym_key() -> bytes | None:
    """The key from KEFU_PSEUDONYM_KEY, else from the file KEFU_PSEUDONYM_KEY_FILE names,
    else None."""
    text = os.environ.get(KEY_ENV, "")
    if text:
        return text.encode("utf-8")
    file_name = os.environ.get(KEY_FILE_ENV, "")
    if not file_name:
        return None
    path = Path(file_name).expanduser().resolve()
    if path.is_relative_to(PROJECT_DIR):
        raise PseudonymKeyError(
            f"{KEY_FILE_ENV} points inside the project ({path}): keep the key file outside "
            "the repository"
        )
    try:
        key = path.read_bytes().strip()
    except OSError as exc:
        raise PseudonymKeyError(f"{KEY_FILE_ENV}: cannot read {path}: {exc.strerror}") from exc
    if not key:
        raise PseudonymKeyError(f"{KEY_FILE_ENV}: {path} is empty")
    return key


def pseudonym(buyer_id: str, key: bytes) -> str:
    """HMAC-SHA256 of the buyer id (UTF-8) under `key`, as 64 hex digits."""
    return hmac.new(key, buyer_id.encode("utf-8"), hashlib.sha256).hexdigest()


def key_check(key: bytes) -> str:
    """A value that changes with the key and reveals nothing of it."""
    return hmac.new(key, _CHECK_MESSAGE, hashlib.sha256).hexdigest()


def create_private_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {SCHEMA}")
    con.execute(
        f"create table if not exists {SCHEMA}.buyer_pseudonyms "
        "(raw_buyer_id varchar primary key, pseudonym varchar not null)"
    )
    con.execute(
        f"create table if not exists {SCHEMA}.pseudonym_settings "
        "(enabled boolean not null, key_check varchar)"
    )
    # Whether a build of every day and every model finished since the key last changed
    # (mark_rekeyed): until then the marts may hold old ids on days no build rewrote.
    con.execute(
        f"alter table {SCHEMA}.pseudonym_settings "
        "add column if not exists rekeyed boolean default true"
    )


def mark_rekeyed(db_path: Path) -> None:
    """Record that a build of every day and every model finished: the marts hold the
    pseudonyms of the current key everywhere, and builds of some days may run again."""
    with duckdb.connect(str(db_path)) as con:
        create_private_schema(con)
        con.execute(f"update {SCHEMA}.pseudonym_settings set rekeyed = true")


def refresh_pseudonyms(con: duckdb.DuckDBPyConnection, every_day: bool = True) -> bool:
    """Bring the pseudonym tables in line with the key of the environment (before a build);
    return whether pseudonyms are on. A build of some days only (`every_day` false) after
    the key changed, or pseudonyms were turned on or off, raises PseudonymKeyError and
    changes nothing: the days it left alone keep the old buyer ids, so the marts would
    mix two ids for one buyer. A build of every day re-keys them all, and builds of some
    days stay refused until one of every day and every model has finished (mark_rekeyed)."""
    create_private_schema(con)
    key = pseudonym_key()
    check = key_check(key) if key else None
    stored = con.execute(
        f"select key_check, coalesce(rekeyed, true) from {SCHEMA}.pseudonym_settings"
    ).fetchall()
    changed = bool(stored) and stored[0][0] != check
    if (changed or (stored and not stored[0][1])) and not every_day:
        if not changed:
            change = "the build of every day after the pseudonym key changed has not finished"
        elif key and stored[0][0]:
            change = "the pseudonym key changed since the last build"
        else:
            change = "buyer pseudonyms were turned " + ("on" if key else "off")
        raise PseudonymKeyError(
            f"{change}, and this build refreshes some days only: the other days would "
            "keep the old buyer ids. Build every day once with `kefu build --full-refresh` "
            "(or set the previous key back)"
        )
    if not stored or changed:
        con.execute(f"delete from {SCHEMA}.buyer_pseudonyms")
        con.execute(f"delete from {SCHEMA}.pseudonym_settings")
        # A first build has no old ids to replace; after a change, not yet rebuilt.
        con.execute(
            f"insert into {SCHEMA}.pseudonym_settings values (?, ?, ?)",
            [key is not None, check, not stored],
        )
    if key is None:
        return False
    ids = " union ".join(f"select buyer_id from raw.{table}" for table in BUYER_SOURCES)
    missing = [
        row[0]
        for row in con.execute(
            f"select buyer_id from ({ids}) as ids where buyer_id is not null "
            f"and buyer_id not in (select raw_buyer_id from {SCHEMA}.buyer_pseudonyms)"
        ).fetchall()
    ]
    if missing:
        table = pa.table(
            {"buyer_id": missing, "pseudonym": [pseudonym(buyer, key) for buyer in missing]}
        )
        con.register("_new_pseudonyms", table)
        try:
            con.execute(f"insert into {SCHEMA}.buyer_pseudonyms select * from _new_pseudonyms")
        finally:
            con.unregister("_new_pseudonyms")
    return True
