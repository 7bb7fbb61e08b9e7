"""The source-kind registry and the mapping models: every table decided, every mapping file checked."""

from __future__ import annotations

import typing
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from protection_etl import registry
from protection_etl.config import ConfigError, KindName, load_config
from protection_etl.flows.cli import app
from protection_etl.transforms import mapping_models as models
from protection_etl.warehouse import db, loader

TABLES = list(registry.tables().values())


def harmonised_tables() -> list[str]:
    """The harmonised tables the migrations create."""
    con = duckdb.connect()
    db.migrate(con)
    return [r[0] for r in con.execute("select table_name from duckdb_tables() where schema_name = 'harmonised'"
                                      ).fetchall()]


def table_columns(table: str) -> list[str]:
    """The columns the migrations give a harmonised table."""
    con = duckdb.connect()
    db.migrate(con)
    return [r[0] for r in con.execute("select column_name from duckdb_columns() where schema_name = 'harmonised' "
                                      "and table_name = ?", [table]).fetchall()]


def test_the_config_accepts_exactly_the_registry_kinds():
    assert set(typing.get_args(KindName)) == set(registry.KINDS)


@pytest.mark.parametrize("table", TABLES, ids=[t.name for t in TABLES])
def test_every_table_has_an_explicit_small_cell_decision(table):
    decision = table.small_cells
    assert isinstance(decision, registry.Suppress | registry.Publish)
    if isinstance(decision, registry.Publish):
        assert decision.why.strip(), f"{table.name}: say why its small counts identify nobody"


def test_every_harmonised_table_of_the_migrations_is_declared():
    # a new table without a registry entry would otherwise reach the analyst snapshot with no small-cell decision
    undeclared = sorted(set(harmonised_tables()) - set(registry.tables()))
    assert not undeclared, f"declare these tables in protection_etl/registry.py: {undeclared}"
    with pytest.raises(KeyError, match="small-cell decision"):
        registry.table("explosive_victim_draft")


@pytest.mark.parametrize("kind", registry.KINDS.values(), ids=list(registry.KINDS))
def test_each_kind_has_its_mapping_transform_and_suites(kind):
    assert isinstance(registry.default_mapping(kind.name), dict)  # the packaged mapping passes its model
    assert callable(kind.harmoniser())
    for table in kind.tables:
        assert table.suite.is_file(), f"{kind.name}: no suite {table.suite.name}"
    if kind.privacy == "aggregated":  # an aggregated kind publishes no count of people unsuppressed
        counts = {"persons", "cases", "incidents", "victims"}
        for table in kind.tables:
            assert isinstance(table.small_cells, registry.Suppress) or not counts & set(table_columns(table.name))


@pytest.mark.parametrize(("file_name", "model"), [
    ("identifying_columns.yaml", models.IdentifyingColumnsMapping),
    ("admin_aliases.yaml", models.AdminAliasesMapping),
    ("code_lists.yaml", models.CodeListsMapping),
], ids=["identifying_columns", "admin_aliases", "code_lists"])
def test_the_packaged_reference_mappings_are_valid(file_name, model):
    assert registry.read_mapping(registry.MAPPINGS_DIR / file_name, model)


def packaged(name: str) -> str:
    return (registry.MAPPINGS_DIR / name).read_text(encoding="utf-8")


BROKEN = [  # kind, mapping text, what the one line says
    ("unknown key", "cmp", packaged("cmp.yaml") + "\nheader_rows: 3\n", "unknown key `header_rows`"),
    ("wrong type", "gbvims", packaged("gbvims.yaml").replace("header_scan_rows: 25", "header_scan_rows: many"),
     "`header_scan_rows`"),
    ("choice name read as a number", "kobo",
     packaged("kobo_protection_monitoring.yaml").replace('"18_59": 18-59', "18_59: 18-59"),
     "`codes.age_range.1859`: YAML read 1859 as a number"),
    ("yes read as true", "kobo", packaged("kobo_protection_monitoring.yaml").replace('oui: "yes"', "oui: yes"),
     "`codes.disability.oui`: YAML read True as true/false"),
    ("not a mapping", "5w", "- columns\n- reached\n", "expected a mapping of keys to values, found list"),
    ("not YAML", "cpims", "columns: [a\n", "not valid YAML"),
]


def write_site(tmp_path: Path, kind: str, mapping_text: str) -> Path:
    (tmp_path / "mine.yaml").write_text(mapping_text, encoding="utf-8")
    config = tmp_path / "pipeline.toml"
    config.write_text(f'[sources.partner]\nkind = "{kind}"\npath = "inbox/*"\nmapping = "mine.yaml"\n',
                      encoding="utf-8")
    return config


@pytest.mark.parametrize(("kind", "text", "message"), [c[1:] for c in BROKEN], ids=[c[0] for c in BROKEN])
def test_a_broken_mapping_is_one_line_naming_the_file_and_the_key(tmp_path, kind, text, message):
    with pytest.raises(ConfigError) as error:
        load_config(write_site(tmp_path, kind, text), require_env=False)
    line = str(error.value)
    assert line.startswith(str(tmp_path / "mine.yaml")) and message in line and "sources.partner" in line
    assert "\n" not in line


def test_a_broken_mapping_exits_2_before_any_source_runs(tmp_path):
    config = write_site(tmp_path, "cmp", packaged("cmp.yaml") + "\nheader_rows: 3\n")
    result = CliRunner().invoke(app, ["run", "--config", str(config)])
    assert result.exit_code == 2
    assert "unknown key `header_rows`" in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "warehouse").exists()  # nothing ran


def test_loaded_paths_are_absolute_and_the_mapping_is_the_file_in_use(tmp_path):
    config = load_config(write_site(tmp_path, "cmp", packaged("cmp.yaml")), require_env=False)
    source = config.sources["partner"]
    assert config.warehouse.raw_dir == tmp_path / "warehouse" / "raw"
    assert source.mapping == tmp_path / "mine.yaml" and source.path == str(tmp_path / "inbox" / "*")


def test_the_adding_a_source_guide_shows_the_registry():
    guide = (Path(__file__).resolve().parents[1] / "docs" / "adding-a-source.md").read_text(encoding="utf-8")
    shown = guide.split("<!-- kinds -->\n", 1)[1].split("\n<!-- /kinds -->", 1)[0]
    assert shown == registry.kinds_markdown()


def test_a_changed_applied_migration_is_refused(tmp_path):
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    for _, _, path in db.migration_files()[:2]:
        (migrations / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    con = duckdb.connect()
    assert len(db.migrate(con, migrations)) == 2 and db.migrate(con, migrations) == []
    changed = sorted(migrations.iterdir())[1]
    changed.write_text(changed.read_text(encoding="utf-8") + "\n-- edited\n", encoding="utf-8")
    with pytest.raises(db.MigrationChanged, match=changed.name):
        db.migrate(con, migrations)


def test_preparing_a_prepared_warehouse_again_finds_nothing_to_do(warehouse):
    # `run` prepares the warehouse while its Prefect server starts; the nightly flow prepares it again
    loader.prepare(warehouse)
    assert db.migrate(warehouse) == [] and loader.load_gazetteer(warehouse) is False
