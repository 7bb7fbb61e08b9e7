"""pipeline.toml: each mistake is one line naming the file and the key, and exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from protection_etl.config import ConfigError, load_config
from protection_etl.flows.cli import app

REPO = Path(__file__).resolve().parents[1]

VALID = """
[warehouse]
path = "w/protection.duckdb"
[sources.fivew]
kind = "5w"
path = "inbox/5w/*.xlsx"
"""

BROKEN = [
    ("unknown top-level key", VALID + "\n[extra]\nx = 1\n", "unknown key `extra`"),
    ("unknown source key", VALID.replace('kind = "5w"', 'kind = "5w"\nsheet = "x"'),
     "unknown key `sources.fivew.sheet`"),
    ("source without path or url", VALID.replace('path = "inbox/5w/*.xlsx"', ""), "`sources.fivew`: needs `path`"),
    ("unknown kind", VALID.replace('"5w"', '"dtm"'), "`sources.fivew.kind`"),
    ("unset token env var", VALID + '\n[sources.pm]\nkind = "kobo"\nurl = "https://kf.example.org"\n'
     'asset_uid = "aXyz"\ntoken_env = "PETL_TEST_UNSET_TOKEN"\n', "PETL_TEST_UNSET_TOKEN, which is not set"),
    ("not TOML", "[warehouse\npath = 1", "not valid TOML"),
]


@pytest.mark.parametrize(("text", "message"), [c[1:] for c in BROKEN], ids=[c[0] for c in BROKEN])
def test_config_errors_name_the_file_and_the_key(tmp_path, monkeypatch, text, message):
    monkeypatch.delenv("PETL_TEST_UNSET_TOKEN", raising=False)
    monkeypatch.setenv("PROTECTION_ETL_PSEUDONYM_KEY", "k")
    path = tmp_path / "pipeline.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value).startswith(str(path))
    assert message in str(error.value)
    result = CliRunner().invoke(app, ["run", "--config", str(path)])
    assert result.exit_code == 2
    assert message in result.output and len(result.output.strip().splitlines()) == 1


def test_missing_file_exits_2(tmp_path):
    result = CliRunner().invoke(app, ["run", "--config", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2 and "configuration file not found" in result.output


def test_unknown_source_name_exits_2(tmp_path):
    path = tmp_path / "pipeline.toml"
    path.write_text(VALID, encoding="utf-8")
    result = CliRunner().invoke(app, ["run", "--config", str(path), "--source", "gbv"])
    assert result.exit_code == 2 and "no source named gbv" in result.output


def test_relative_paths_resolve_against_the_config_folder(tmp_path):
    path = tmp_path / "conf" / "pipeline.toml"
    path.parent.mkdir()
    path.write_text(VALID, encoding="utf-8")
    config = load_config(path)
    assert config.warehouse.path == tmp_path / "conf" / "w" / "protection.duckdb"


@pytest.mark.parametrize("name", ["pipeline.example.toml", "demo/pipeline.toml"])
def test_shipped_configs_are_valid(name, monkeypatch):
    for var in ("KOBO_TOKEN", "SMTP_USER", "SMTP_PASSWORD", "PROTECTION_ETL_PSEUDONYM_KEY"):
        monkeypatch.setenv(var, "set")
    assert load_config(REPO / name).sources


COD = REPO / "tests" / "fixtures" / "reference" / "global_pcodes_adm1_adm2.csv"
REFERENCE_BROKEN = [
    ("another country without its table", '[reference]\ncountry = "NER"\n', "only Mali's gazetteer is bundled"),
    ("not an ISO3 code", '[reference]\ncountry = "Niger"\n', "`reference.country`"),
    ("table not found", '[reference]\ncountry = "NER"\ngazetteer = "nope.csv"\n', "`reference.gazetteer`: no file"),
    ("country not in the table", f'[reference]\ncountry = "FRA"\ngazetteer = "{COD}"\n', "no row for country 'FRA'"),
    ("not a COD table", '[reference]\ncountry = "NER"\ngazetteer = "pipeline.toml"\n', "lacks the column(s)"),
]


@pytest.mark.parametrize(("text", "message"), [c[1:] for c in REFERENCE_BROKEN], ids=[c[0] for c in REFERENCE_BROKEN])
def test_reference_errors_name_the_key(tmp_path, text, message):
    path = tmp_path / "pipeline.toml"
    path.write_text(VALID + text, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(path, require_env=False)
    assert message in str(error.value)


def test_reference_selects_a_country_of_a_cod_table(tmp_path):
    path = tmp_path / "pipeline.toml"
    path.write_text(VALID + f'[reference]\ncountry = "ner"\ngazetteer = "{COD}"\n', encoding="utf-8")
    config = load_config(path, require_env=False)
    assert (config.reference.country, config.gazetteer_path()) == ("NER", COD)
    assert load_config(REPO / "demo" / "pipeline.toml", require_env=False).gazetteer_path() is None  # bundled Mali


def test_a_file_source_takes_defaults_and_a_period(tmp_path):
    path = tmp_path / "pipeline.toml"
    path.write_text('[sources.fivew]\nkind = "5w"\npath = "in/*.xlsx"\ndefaults = { sector = "PRO" }\n'
                    'period = "2026-10"\n', encoding="utf-8")
    source = load_config(path).sources["fivew"]
    assert (source.defaults, source.period) == ({"sector": "PRO"}, "2026-10")
    path.write_text('[sources.fivew]\nkind = "5w"\npath = "in/*.xlsx"\nperiod = "octobre"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="period"):
        load_config(path)


SECURITY = [
    ("a path in a source name", '[sources."../../../escaped"]\nkind = "cmp"\npath = "x/*"\n',
     "source name '../../../escaped' may hold only letters, digits, '_' and '-'"),
    ("a line break in a source name", '[sources."a\\r\\nb"]\nkind = "cmp"\npath = "x/*"\n',
     "source name 'a\\r\\nb' may hold only"),
    ("a token where its env-var name belongs", '[sources.k]\nkind = "kobo"\nurl = "https://kf.example.org"\n'
     'asset_uid = "aXyz"\ntoken_env = "a3f9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1"\n',
     "`sources.k.token_env`: must name an environment variable"),
    ("a password where its env-var name belongs", '[notify]\npassword_env = "hunter2!"\n',
     "looks like a secret (8 characters: letters, digits, symbols) and is not shown"),
    ("a mistyped mapping path", '[sources.g]\nkind = "gbvims"\npath = "x/*"\nmapping = "mapings/gbvims.yaml"\n',
     "mapings/gbvims.yaml: mapping file not found (the mapping of sources.g"),
]


@pytest.mark.parametrize(("text", "message"), [c[1:] for c in SECURITY], ids=[c[0] for c in SECURITY])
def test_unsafe_config_is_a_one_line_error_that_never_echoes_a_secret(tmp_path, text, message):
    path = tmp_path / "pipeline.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(path, require_env=False)
    assert message in str(error.value) and "\n" not in str(error.value)
    for secret in ("a3f9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1", "hunter2!"):
        assert secret not in str(error.value)


def test_a_packaged_mapping_is_found_by_its_name_or_its_place_in_the_package(tmp_path):
    for written in ("gbvims.yaml", "transforms/mappings/gbvims.yaml"):
        path = tmp_path / "pipeline.toml"
        path.write_text(f'[sources.g]\nkind = "gbvims"\npath = "x/*"\nmapping = "{written}"\n', encoding="utf-8")
        assert load_config(path, require_env=False).sources["g"].mapping.name == "gbvims.yaml"


def test_paths_leaving_the_config_folder_are_listed_packaged_mappings_aside(tmp_path):
    from protection_etl.config import paths_outside

    path = tmp_path / "site" / "pipeline.toml"
    path.parent.mkdir()
    path.write_text('[warehouse]\nanalyst_path = "../shared/analyst.duckdb"\n[sources.g]\nkind = "gbvims"\n'
                    'path = "inbox/*"\nmapping = "gbvims.yaml"\n', encoding="utf-8")
    assert paths_outside(load_config(path, require_env=False)) == [
        ("warehouse.analyst_path", tmp_path / "site" / ".." / "shared" / "analyst.duckdb")]


def test_the_analyst_group_must_exist(tmp_path):
    path = tmp_path / "pipeline.toml"
    path.write_text('[warehouse]\nanalyst_group = "no-such-group-here"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"`warehouse\.analyst_group`: no group 'no-such-group-here'"):
        load_config(path, require_env=False)
