# The two commands of the README: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
export KEFU_DB ?= data/warehouse.duckdb

BI_CLIENT := .bi-clients/duckdb-1.1.3
DAGSTER_HOME_DIR := $(abspath data/dagster_home)

.PHONY: install install-spark demo test lint bench bench-scale bench-report clean dagster

$(BIN)/kefu: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip==25.3"
	$(BIN)/pip install --quiet -c requirements.lock -e ".[dev]"
	touch $(BIN)/kefu

# A DuckDB 1.x client, as BI drivers bundle one: the tests read the published file with it.
$(BI_CLIENT)/duckdb/__init__.py: $(BIN)/kefu
	$(BIN)/pip install --quiet --no-deps --target $(BI_CLIENT) "duckdb==1.1.3"

install: $(BIN)/kefu $(BI_CLIENT)/duckdb/__init__.py

# The optional Spark engine (`kefu build --engine spark`): dbt-spark + PySpark (Java 17).
# The test command installs it; the demo does not need it.
SPARK_EXTRA := $(VENV)/.spark-extra
$(SPARK_EXTRA): $(BIN)/kefu
	$(BIN)/pip install --quiet -c requirements.lock -e ".[dev,spark]"
	touch $(SPARK_EXTRA)

install-spark: install $(SPARK_EXTRA)

## make dagster: the Dagster UI with the run queue of dagster.yaml; run history in data/dagster_home
dagster: install
	mkdir -p $(DAGSTER_HOME_DIR)
	cp dagster.yaml $(DAGSTER_HOME_DIR)/dagster.yaml
	DAGSTER_HOME=$(DAGSTER_HOME_DIR) $(BIN)/dagster dev -m orchestration

## make demo: set up, write the demo landing zone, load, build, check, publish
demo: install
	$(BIN)/kefu demo

## make test: set up and run every check (lint + pytest, which runs dbt, Dagster and GX for real)
test: install-spark lint
	$(BIN)/pytest -q --durations=10

lint: install
	$(BIN)/ruff check kefu orchestration expectations tests
	$(BIN)/ruff format --check kefu orchestration expectations tests
	$(BIN)/sqlfluff lint models tests/dbt

## make bench: a 30-day and a 120-day warehouse at 20,000 messages a day: full build, 5-day
## window build, no-op night and a one-query baseline; prints times, peak memory, the ratios
bench: install
	$(BIN)/kefu bench --days 120 --per-day 20000

## make bench-scale: generate, load and build 10 million messages against a 1-million baseline
bench-scale: install
	$(BIN)/kefu bench --messages 10000000

## make bench-report: render the reports of a 200-agent, 90-day shop; prints render time,
## file sizes and the time headless Chromium takes to open the page and draw its charts
bench-report: install
	$(BIN)/python -m kefu.report.bench --agents 200 --days 90

clean:
	rm -rf $(VENV) .bi-clients target logs data
