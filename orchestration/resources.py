"""Resources: the dbt project (repo root, profiles.yml beside it) and the warehouse paths.

The dbt manifest Dagster reads lives in target/dagster/. It is prepared when the code
location loads if it is missing or older than the dbt sources (and always under
`dagster dev`), so `dagster dev -m orchestration` works from a fresh checkout.
"""

import os
import sys
from pathlib import Path

import dagster as dg
from dagster._utils import run_with_concurrent_update_guard
from dagster_dbt import DbtCliResource, DbtProject
from dagster_dbt.dbt_project import using_dagster_dev

from kefu.paths import PROJECT_DIR, resolve_db_path, resolve_landing_dir
from kefu.publish import resolve_publish_path

# The dbt of this interpreter's environment, so that an unactivated virtualenv works too.
_VENV_DBT = Path(sys.executable).parent / "dbt"
DBT_EXECUTABLE = str(_VENV_DBT) if _VENV_DBT.exists() else "dbt"

DBT_PROJECT = DbtProject(
    project_dir=PROJECT_DIR,
    profiles_dir=PROJECT_DIR,
    target_path=Path("target") / "dagster",
)

# What the manifest is parsed from; a newer file here makes it stale.
_DBT_SOURCES = ["models", "macros", "seeds", "tests/dbt", "dbt_project.yml", "profiles.yml"]


def _newest_source_mtime() -> float:
    newest = 0.0
    for name in _DBT_SOURCES:
        path = PROJECT_DIR / name
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        newest = max([newest, *(p.stat().st_mtime for p in files)])
    return newest


def manifest_is_stale(project: DbtProject = DBT_PROJECT) -> bool:
    manifest = project.manifest_path
    return not manifest.exists() or manifest.stat().st_mtime < _newest_source_mtime()


def _parse(project: DbtProject) -> None:
    DbtCliResource(project_dir=project, dbt_executable=DBT_EXECUTABLE).cli(
        ["parse", "--quiet"], target_path=project.target_path
    ).wait()


def prepare_manifest(project: DbtProject = DBT_PROJECT) -> Path:
    """`dbt parse` into the project's target path when needed; the manifest's path."""
    if using_dagster_dev() or manifest_is_stale(project):
        run_with_concurrent_update_guard(project.manifest_path, _parse, project=project)
    return project.manifest_path


class KefuWarehouse(dg.ConfigurableResource):
    """Where the warehouse file, the landing zone and the published file are. Unset: env
    KEFU_DB (default data/warehouse.duckdb), env KEFU_LANDING (default data/landing) and
    env KEFU_PUBLISH (default published/kefu.duckdb beside the warehouse)."""

    db: str | None = None
    landing: str | None = None
    publish: str | None = None

    def db_path(self) -> Path:
        return resolve_db_path(self.db)

    def publish_path(self) -> Path:
        """The published file: `publish`, else env KEFU_PUBLISH, else beside the warehouse."""
        return resolve_publish_path(self.db_path(), self.publish)

    def landing_dir(self) -> Path:
        return resolve_landing_dir(self.landing or os.environ.get("KEFU_LANDING"))


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=DBT_PROJECT, dbt_executable=DBT_EXECUTABLE)


RESOURCES = {"dbt": dbt_resource(), "warehouse": KefuWarehouse()}
