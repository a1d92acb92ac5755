"""Keyed buyer pseudonyms (issue 8): HMAC-SHA256 with KEFU_PSEUDONYM_KEY, on whenever the
key is set, an error when asked for without a key; raw keeps the originals."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from pathlib import Path

import duckdb
import pytest

from kefu import warehouse
from kefu.build import BuildError, BuildWindow, build, run_dbt
from kefu.nightly import build_recorded
from kefu.paths import PROJECT_DIR
from kefu.pseudonyms import (
    KEY_ENV,
    KEY_FILE_ENV,
    PseudonymKeyError,
    key_check,
    pseudonym_key,
)
from tests.support import msg, write_raw

SELECT = "+fct_receptions"
KEY = "night-key-1"
BUYERS = ["毛毛小铺的买家", "tb_buyer_01", "=HYPERLINK(1)"]
DICTIONARY = BUYERS + [f"nick{i}" for i in range(200)]


def hmac_hex(key: str, buyer: str) -> str:
    return hmac.new(key.encode(), buyer.encode(), hashlib.sha256).hexdigest()


def chats(day: str, buyers: list[str]) -> list[dict]:
    rows = []
    for buyer in buyers:
        rows.append(msg("s1", "a1", buyer, "buyer", f"{day} 10:00:00"))
        rows.append(msg("s1", "a1", buyer, "agent", f"{day} 10:00:30"))
    return rows


def run_models(db: Path, full_refresh: bool = False) -> None:
    """`dbt run` of fct_receptions and its parents (the build path of kefu, without tests)."""
    args = ["run", "--vars", json.dumps(BuildWindow().dbt_vars()), "--select", SELECT]
    run_dbt(db, args + (["--full-refresh"] if full_refresh else []))


def copy_warehouse(source: Path, target: Path) -> Path:
    with duckdb.connect(str(source)) as con:
        con.execute("checkpoint")
    target.write_bytes(source.read_bytes())
    return target


def published(db: Path) -> set[str]:
    with duckdb.connect(str(db)) as con:
        return {
            row[0] for row in con.execute("select buyer_id from marts.fct_receptions").fetchall()
        }


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Night 1 built with KEY; night 2 adds a buyer and builds again with the same key."""
    db = tmp_path_factory.mktemp("keyed") / "w.duckdb"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(KEY_ENV, KEY)
        write_raw(db, {"messages": chats("2026-05-01", BUYERS[:2])}, file_id=1)
        run_dbt(db, ["seed"])
        run_models(db)
        write_raw(db, {"messages": chats("2026-05-02", BUYERS)}, file_id=2)
        run_models(db)
    return db


def test_marts_carry_the_hmac_of_the_buyer_id_and_raw_keeps_the_original(keyed: Path) -> None:
    assert published(keyed) == {hmac_hex(KEY, buyer) for buyer in BUYERS}
    with duckdb.connect(str(keyed)) as con:
        raw = {row[0] for row in con.execute("select buyer_id from raw.messages").fetchall()}
    assert raw == set(BUYERS)


def test_the_same_key_gives_the_same_pseudonym_across_nights(keyed: Path) -> None:
    with duckdb.connect(str(keyed)) as con:
        by_day = con.execute(
            "select biz_date::varchar, buyer_id from marts.fct_receptions order by 1, 2"
        ).fetchall()
    night1 = {buyer for day, buyer in by_day if day == "2026-05-01"}
    night2 = {buyer for day, buyer in by_day if day == "2026-05-02"}
    assert night1 == {hmac_hex(KEY, b) for b in BUYERS[:2]} and night1 < night2


def test_a_dictionary_join_re_identifies_no_buyer_without_the_key(keyed: Path) -> None:
    """The issue's attack: hash every candidate nick and join. Unkeyed sha256 and HMAC under
    a wrong key find nobody; only the key holder can."""
    marts = published(keyed)
    unkeyed = {hashlib.sha256(nick.encode()).hexdigest() for nick in DICTIONARY}
    wrong_key = {hmac_hex("guessed-key", nick) for nick in DICTIONARY}
    assert marts & unkeyed == set()
    assert marts & wrong_key == set()
    assert marts & set(BUYERS) == set()
    assert len(marts & {hmac_hex(KEY, nick) for nick in DICTIONARY}) == len(BUYERS)


def test_another_key_gives_other_pseudonyms_and_no_key_the_ids(
    keyed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = copy_warehouse(keyed, tmp_path / "copy.duckdb")
    monkeypatch.setenv(KEY_ENV, "night-key-2")
    run_models(db, full_refresh=True)
    assert published(db) == {hmac_hex("night-key-2", buyer) for buyer in BUYERS}
    monkeypatch.delenv(KEY_ENV)
    run_models(db, full_refresh=True)
    assert published(db) == set(BUYERS)
    with duckdb.connect(str(db)) as con:
        assert con.execute("select count(*) from private.buyer_pseudonyms").fetchall() == [(0,)]


def test_asking_for_pseudonyms_without_a_key_is_an_error(
    keyed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = copy_warehouse(keyed, tmp_path / "copy.duckdb")
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)
    dbt_vars = {**BuildWindow().dbt_vars(), "pseudonymise_buyers": True}
    with pytest.raises(BuildError, match="pseudonymise_buyers asks for buyer pseudonyms"):
        run_dbt(db, ["run", "--vars", json.dumps(dbt_vars), "--select", "fct_receptions"])


def test_the_key_file_must_be_outside_the_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    key_file = tmp_path / "kefu.key"
    key_file.write_text("from-a-file\n", encoding="utf-8")
    monkeypatch.setenv(KEY_FILE_ENV, str(key_file))
    assert pseudonym_key() == b"from-a-file"
    monkeypatch.setenv(KEY_FILE_ENV, str(PROJECT_DIR / "pyproject.toml"))
    with pytest.raises(PseudonymKeyError, match="outside the repository"):
        pseudonym_key()
    monkeypatch.setenv(KEY_FILE_ENV, str(tmp_path / "missing.key"))
    with pytest.raises(PseudonymKeyError, match="cannot read"):
        pseudonym_key()


def test_a_build_of_some_days_after_a_key_change_is_refused_and_changes_nothing(
    keyed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The days a window build leaves alone keep the old pseudonyms: after a key change
    (or pseudonyms turned off) only a build of every day may run."""
    db = copy_warehouse(keyed, tmp_path / "copy.duckdb")
    window = BuildWindow(start=dt.date(2026, 5, 2), end=dt.date(2026, 5, 2))
    with duckdb.connect(str(db)) as con:
        warehouse.ensure_build_runs(con)
    monkeypatch.setenv(KEY_ENV, "night-key-2")
    with pytest.raises(BuildError, match="pseudonym key changed since the last build"):
        run_dbt(db, ["run", "--select", SELECT], window)
    with pytest.raises(BuildError, match="kefu build --full-refresh"):
        build_recorded(db, window, [], "kefu run-nightly", data_tests=False)
    with pytest.raises(BuildError, match="pseudonym key changed"):  # an end bounds it too
        run_dbt(db, ["run", "--select", SELECT], BuildWindow(end=dt.date(2026, 5, 1)))
    monkeypatch.delenv(KEY_ENV)
    with pytest.raises(BuildError, match="buyer pseudonyms were turned off"):
        run_dbt(db, ["run", "--select", SELECT], window)
    # nothing changed: the marts, the stored key check, no build recorded
    assert published(db) == {hmac_hex(KEY, buyer) for buyer in BUYERS}
    with duckdb.connect(str(db)) as con:
        assert con.execute("select key_check from private.pseudonym_settings").fetchall() == [
            (key_check(KEY.encode()),)
        ]
        assert con.execute("select count(*) from raw.build_runs").fetchone() == (0,)
    # the old key back, the window build runs
    monkeypatch.setenv(KEY_ENV, KEY)
    run_dbt(db, ["run", "--select", SELECT], window)
    assert published(db) == {hmac_hex(KEY, buyer) for buyer in BUYERS}
    # Every day but some models (or a build that failed half-way) re-keys and is not
    # enough: window builds wait for a build of every day and every model.
    monkeypatch.setenv(KEY_ENV, "night-key-2")
    run_dbt(db, ["run", "--select", SELECT])
    with pytest.raises(BuildError, match="after the pseudonym key changed has not finished"):
        run_dbt(db, ["run", "--select", SELECT], window)
    build(db, data_tests=False)
    run_dbt(db, ["run", "--select", SELECT], window)
    assert published(db) == {hmac_hex("night-key-2", buyer) for buyer in BUYERS}
