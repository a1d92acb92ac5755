"""The rules in the repository, each written once: docs/metrics.md and docs/landing.md
are the references, the dbt yml files point at docs/metrics.md's doc blocks, and no
file points outside the repository. (The marts' columns against docs/metrics.md:
tests/test_kpi_marts.py, which has a built warehouse.)"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from kefu.loading.entities import ENTITIES, PLATFORMS, SENDER_ROLES, TEAMS
from kefu.paths import PROJECT_DIR

DOCS = PROJECT_DIR / "docs"
DOC_BLOCK = re.compile(r"\{%\s*docs\s+(\w+)\s*%\}")
TABLE_ROW = re.compile(r"^\| `(\w+)` \|", re.MULTILINE)


def documented_columns() -> set[str]:
    """Columns with an entry in docs/metrics.md §15: a doc block or a table row."""
    text = (DOCS / "metrics.md").read_text(encoding="utf-8")
    reference = text[text.index("## §15 Column reference") :]
    return set(DOC_BLOCK.findall(reference)) | set(TABLE_ROW.findall(reference))


def _doc_blocks(path: Path) -> list[str]:
    return DOC_BLOCK.findall(path.read_text(encoding="utf-8"))


def test_each_doc_block_is_defined_once():
    names = [name for path in PROJECT_DIR.glob("models/**/*.md") for name in _doc_blocks(path)]
    names += _doc_blocks(DOCS / "metrics.md")
    assert sorted(name for name in set(names) if names.count(name) > 1) == []


def test_mart_columns_that_have_a_metric_entry_use_its_doc_block():
    metric_blocks = set(_doc_blocks(DOCS / "metrics.md"))
    wrong = []
    for path in PROJECT_DIR.glob("models/marts/**/*.yml"):
        for model in yaml.safe_load(path.read_text(encoding="utf-8"))["models"]:
            for column in model.get("columns", []):
                if column["name"] in metric_blocks:
                    expected = f"doc('{column['name']}')"
                    description = column.get("description", "").replace('"', "'")
                    if expected not in description:
                        wrong.append(f"{model['name']}.{column['name']}")
    assert wrong == []


def test_conversion_rates_are_called_success_rates():
    text = (DOCS / "metrics.md").read_text(encoding="utf-8")
    assert "转化率" not in text
    assert "询单→次日付款成功率" in text and "询单→最终付款成功率" in text
    for path in PROJECT_DIR.glob("models/**/*.md"):
        assert "转化率" not in path.read_text(encoding="utf-8"), path


def test_landing_md_lists_every_column_alias_and_vocabulary_word():
    text = (DOCS / "landing.md").read_text(encoding="utf-8")
    # The contract's column names and every header of the built-in (default) mappings.
    words = {c.name for entity in ENTITIES.values() for c in entity.columns}
    for path in (PROJECT_DIR / "kefu" / "mappings").glob("default_*.yaml"):
        words |= set(yaml.safe_load(path.read_text(encoding="utf-8"))["columns"])
    words |= set(SENDER_ROLES) | set(PLATFORMS) | set(TEAMS)
    assert sorted(word for word in words if f"`{word}`" not in text) == []


def test_no_reference_points_outside_the_repository():
    # Every "§" reference names the file it points into; nothing links to ../shared.
    checked = [PROJECT_DIR / "README.md", PROJECT_DIR / "dbt_project.yml"]
    for folder in (
        "kefu",
        "models",
        "macros",
        "seeds",
        "tests",
        "orchestration",
        "expectations",
        "docs",
    ):
        checked += [
            p
            for p in (PROJECT_DIR / folder).rglob("*")
            if p.suffix in (".py", ".sql", ".yml", ".yaml", ".md", ".csv")
            and "samples" not in p.parts  # sample exports, some in GB18030
        ]
    bad = []
    for path in checked:
        if path.name == "test_docs.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "shared/spec" in line or re.search(r"contract(\.md)? §", line):
                bad.append(f"{path.relative_to(PROJECT_DIR)}:{number}")
    assert bad == []


def test_section_references_resolve_to_headings():
    headings = {
        name: set(
            re.findall(r"^#+ (§\d+(?:\.\d+)?)", (DOCS / name).read_text(encoding="utf-8"), re.M)
        )
        for name in ("metrics.md", "landing.md")
    }
    # Numbered items ("§3.6" is item 6 of "## §3") resolve to their section.
    for name, text in (
        (name, (DOCS / name).read_text(encoding="utf-8")) for name in ("metrics.md", "landing.md")
    ):
        for section in re.findall(r"^## (§\d+)", text, re.M):
            for item in re.findall(r"^(\d+)\. ", text[text.index(f"## {section}") :], re.M):
                headings[name].add(f"{section}.{item}")
    unresolved = []
    for path in [
        PROJECT_DIR / "README.md",
        *PROJECT_DIR.glob("models/**/*"),
        *PROJECT_DIR.glob("kefu/**/*.py"),
    ]:
        if not path.is_file():
            continue
        for name, ref in re.findall(
            r"docs/(metrics\.md|landing\.md) (§\d+(?:\.\d+)?)", path.read_text(encoding="utf-8")
        ):
            if ref not in headings[name]:
                unresolved.append(f"{path.name}: {name} {ref}")
    assert unresolved == []


def test_every_metric_names_a_model_and_a_test_that_exist():
    text = (DOCS / "metrics.md").read_text(encoding="utf-8")
    models = {path.stem for path in PROJECT_DIR.glob("models/**/*.sql")}
    entries = re.findall(
        r"\{% docs (\w+) %\}(.*?)\{% enddocs %\}", text[text.index("## §15") :], re.S
    )
    assert len(entries) > 50
    missing = []
    for name, body in entries:
        computed = re.search(r"Computed in (.*?); proved by `([^`]+)::(\w+)`", body, re.S)
        assert computed, name
        named_models = re.findall(
            r"`?\b(int_\w+|fct_\w+|\w+_kpis|\w+_daily|\w+_hourly|unpaid_\w+"
            r"|platform_service_assessed|kpi_target_status|service_alerts)",
            computed.group(1),
        )
        assert named_models, name
        missing += [f"{name}: model {m}" for m in named_models if m not in models]
        test_file = PROJECT_DIR / computed.group(2)
        if f"def {computed.group(3)}(" not in test_file.read_text(encoding="utf-8"):
            missing.append(f"{name}: test {computed.group(2)}::{computed.group(3)}")
    assert missing == []
