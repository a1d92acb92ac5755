"""DDL of the raw layer: the contract between the loader and the staging models.

Every raw table keeps the values of the export after validation and type casts:
ids and free text as VARCHAR, timestamps as the shop's local wall time
(TIMESTAMP, offsets already converted), money as DECIMAL(18, 2). `_file_id`
points at `raw.load_files`; `_row_num` is the row's line in its file (CSV and
xlsx: the header is line 1; jsonl and parquet: the first record is line 1).
Together they give the load order used to break ties ("the later-loaded row").
"""

RAW_SCHEMA = "raw"

RAW_TABLES: dict[str, str] = {
    "load_files": """
        create table if not exists raw.load_files (
            file_id integer primary key,
            entity varchar not null,
            file_path varchar not null,
            file_name varchar not null,
            content_sha256 varchar not null,
            file_format varchar,
            encoding varchar,
            status varchar not null,          -- loaded | rejected
            rows_read bigint,
            rows_loaded bigint,
            rows_quarantined bigint,
            rows_duplicate bigint,
            message varchar,
            load_run_id integer not null
        )""",
    "landing_file_stats": """
        create table if not exists raw.landing_file_stats (
            file_path varchar primary key,    -- path in the landing zone
            entity varchar not null,
            size_bytes bigint not null,       -- the file's size and modification time when
            mtime_ns bigint not null,         -- its content (sha256) was last found loaded
            content_sha256 varchar not null
        )""",
    # Per loaded file of messages, orders or ratings and per shop: the smallest and
    # largest id of its rows (KEY_RANGE_COLUMNS). A new file's rows can share a key only
    # with the stored rows of the files whose range overlaps its own, so the loader
    # reads those files' rows only (kefu.loading.run.stored_files_to_match).
    "load_key_ranges": """
        create table if not exists raw.load_key_ranges (
            file_id integer not null,
            shop_id varchar not null,
            min_key varchar not null,
            max_key varchar not null
        )""",
    "quarantine": """
        create table if not exists raw.quarantine (
            file_id integer not null,
            entity varchar not null,
            file_path varchar not null,
            line bigint not null,
            column_name varchar not null,
            reason varchar not null,
            raw_values varchar not null       -- JSON object of the row as read
        )""",
    "shops": """
        create table if not exists raw.shops (
            shop_id varchar not null,
            platform varchar,
            shop_name varchar,
            timezone varchar,
            ruleset varchar,
            _file_id integer not null,
            _row_num bigint not null
        )""",
    "agents": """
        create table if not exists raw.agents (
            agent_id varchar not null,
            shop_id varchar not null,
            agent_name varchar,
            team varchar,
            employee_id varchar,
            _file_id integer not null,
            _row_num bigint not null
        )""",
    "filters": """
        create table if not exists raw.filters (
            shop_id varchar not null,
            buyer_id varchar not null,
            reason varchar,
            _file_id integer not null,
            _row_num bigint not null
        )""",
    "messages": """
        create table if not exists raw.messages (
            message_id varchar not null,
            shop_id varchar not null,
            buyer_id varchar not null,
            agent_id varchar not null,
            sender_role varchar not null,     -- normalised: buyer|agent|assist|auto|system
            sent_at timestamp not null,       -- shop local wall time
            msg_type varchar,
            content varchar,
            _file_id integer not null,
            _row_num bigint not null
        )""",
    "orders": """
        create table if not exists raw.orders (
            order_id varchar not null,
            shop_id varchar not null,
            buyer_id varchar not null,
            created_at timestamp not null,
            paid_at timestamp,
            amount decimal(18, 2) not null,
            quantity integer not null,        -- default 1
            status varchar,
            refund_amount decimal(18, 2) not null,  -- default 0
            updated_at timestamp,
            _file_id integer not null,
            _row_num bigint not null
        )""",
    "ratings": """
        create table if not exists raw.ratings (
            rating_id varchar not null,
            shop_id varchar not null,
            buyer_id varchar not null,
            agent_id varchar not null,
            rated_at timestamp not null,
            score varchar not null,           -- normalised: '1'..'5' or the Chinese label
            channel varchar,
            _file_id integer not null,
            _row_num bigint not null
        )""",
}

# The id column of each raw table whose per-file, per-shop range raw.load_key_ranges
# holds: the key a stored copy shares with a new row (with shop_id).
KEY_RANGE_COLUMNS = {"messages": "message_id", "orders": "order_id", "ratings": "rating_id"}

# Entities in the order one load takes them: shops first, so that their
# timezones convert the offset timestamps of the files that follow.
ENTITY_ORDER = ["shops", "agents", "filters", "messages", "orders", "ratings"]


def ensure_raw_schema(db_path, every_day: bool = True, pseudonyms: bool = True) -> None:
    """Create the warehouse file (and its folder) with the raw schema, if missing: dbt's
    sources must exist before the first build, even when nothing was loaded yet. Every
    build passes here, so this also brings the buyer pseudonyms in line with the key of
    the environment (kefu.pseudonyms; PseudonymKeyError when the key is unusable, or
    changed and the build is not of `every_day`). Without `pseudonyms`, the raw schema
    only (a caller that learns its window later and passes here again)."""
    import duckdb

    from kefu.pseudonyms import refresh_pseudonyms

    db_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(db_path)) as con:
        create_raw_schema(con)
        if pseudonyms:
            refresh_pseudonyms(con, every_day)


def create_raw_schema(con) -> None:
    """Create the raw schema and its tables if they do not exist yet. A warehouse
    loaded before raw.load_key_ranges existed gets its files' ranges once, when the
    table is made."""
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    had_ranges = con.execute(
        "select count(*) from duckdb_tables()"
        " where database_name = current_database() and schema_name = ?"
        " and table_name = 'load_key_ranges'",
        [RAW_SCHEMA],
    ).fetchone()[0]
    for ddl in RAW_TABLES.values():
        con.execute(ddl)
    if not had_ranges:
        for table in KEY_RANGE_COLUMNS:
            insert_key_ranges(con, table)


def insert_key_ranges(con, table: str, file_id: int | None = None) -> None:
    """Add to raw.load_key_ranges the id range of each shop's rows of raw `table`, per
    file: of every file, or of the file `file_id` only (one the loader just stored)."""
    column = KEY_RANGE_COLUMNS[table]
    where = "true" if file_id is None else f"_file_id = {int(file_id)}"
    con.execute(
        f"insert into {RAW_SCHEMA}.load_key_ranges"
        f" select _file_id, shop_id, min({column}), max({column})"
        f" from {RAW_SCHEMA}.{table} where {where} group by _file_id, shop_id"
    )
