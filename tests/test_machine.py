"""DuckDB's memory limit and spill folder under dbt (kefu/machine.py, profiles.yml)."""

from __future__ import annotations

from pathlib import Path

from dbt.cli.main import dbtRunner

from kefu.build import dbt_env, release_dbt_connection, temporary_environment
from kefu.paths import PROJECT_DIR

# A sort of 3M hashes under a 100 MB limit spills to the temp folder.
SPILLING_SQL = (
    "select count(*) as n, max(s) as m from"
    " (select md5(cast(range as varchar)) as s from range(3000000) order by s)"
)


def test_a_build_that_spilled_opens_its_next_cursor(tmp_path: Path):
    """dbt-duckdb runs the profile's `settings` again on every new cursor; DuckDB refuses
    to set temp_directory again once it has spilled. The 100M-message build failed that
    way at the unit test after its first spilling model: the spill folder is now set once,
    when dbt opens the database."""
    env = {
        **dbt_env(tmp_path / "w.duckdb"),
        "KEFU_DUCKDB_MEMORY_LIMIT": "100MB",
        "KEFU_DBT_THREADS": "1",
    }
    spill = Path(env["KEFU_DUCKDB_TEMP_DIR"])
    spill.mkdir(parents=True)
    args = ["--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR), "--quiet"]
    results = []
    try:
        with temporary_environment(env):
            for sql in (SPILLING_SQL, "select 42 as answer"):
                result = dbtRunner().invoke(["show", "--inline", sql, *args])
                results.append((result.success, str(result.exception or "")))
                if not results[-1][0]:
                    break
                spilled = any(spill.iterdir())
    finally:
        release_dbt_connection()
    assert results == [(True, ""), (True, "")]
    assert spilled, "the first query did not spill: the test proves nothing"
