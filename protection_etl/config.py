"""pipeline.toml: the run's configuration, validated with pydantic."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from protection_etl import registry

KindName = Literal[tuple(registry.KINDS)]  # the kinds of the registry, nowhere else


class ConfigError(Exception):
    """A configuration problem, said in one line that names the file and the key."""


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_SOURCE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _env_name(value: str) -> str:
    """An environment variable's name; a value that is not one may be the secret itself: never echo it."""
    mixed = any(c.isdigit() for c in value) and any(c.isalpha() for c in value)
    secret_like = len(value) >= 16 and mixed and not ("_" in value and value == value.upper())  # a token, a key
    if _ENV_NAME.fullmatch(value) and not secret_like:
        return value
    kinds = [what for what, found in (("letters", any(c.isalpha() for c in value)),
                                      ("digits", any(c.isdigit() for c in value)),
                                      ("symbols", any(not c.isalnum() and c != "_" for c in value))) if found]
    raise ValueError(f"must name an environment variable (e.g. KOBO_TOKEN), not hold a value: the value given "
                     f"looks like a secret ({len(value)} characters: {', '.join(kinds) or 'none'}) and is not shown; "
                     "put the secret in the environment and its name here")


EnvName = Annotated[str, AfterValidator(_env_name)]
_PACKAGED_FORMS = (".", "transforms/mappings", "protection_etl/transforms/mappings")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WarehouseConfig(_Strict):
    path: Path = Path("warehouse/protection.duckdb")
    analyst_path: Path = Path("warehouse/analyst.duckdb")
    raw_dir: Path = Path("warehouse/raw")
    reports_dir: Path = Path("warehouse/reports")
    state_dir: Path = Path("warehouse/state")
    raw_retention_days: Annotated[int, Field(ge=1)] = 90
    analyst_storage_version: str = "v1.2.0"
    analyst_group: str | None = None  # the Unix group whose members may read the snapshot (0640); else 0644


class ScheduleConfig(_Strict):
    cron: str = "0 2 * * *"
    timezone: str = "Africa/Bamako"


class PrivacyConfig(_Strict):
    min_cell: Annotated[int, Field(ge=1)] = 5
    pseudonym_key_env: EnvName = "PROTECTION_ETL_PSEUDONYM_KEY"


class NotifyConfig(_Strict):
    on: Literal["failure", "warnings", "always", "never"] = "failure"
    language: Literal["fr", "en"] = "fr"  # of the report, the email, the command line's summary and `status`
    to: list[str] = Field(default_factory=list)
    sender: str = "protection-etl@localhost"
    smtp_host: str | None = None
    smtp_port: int = 587
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username_env: EnvName | None = None
    password_env: EnvName | None = None
    timeout_seconds: float = 30.0
    outbox_dir: Path = Path("warehouse/outbox")


class ReferenceConfig(_Strict):
    """Whose P-codes: the bundled Mali gazetteer, or one country of a COD P-code table."""

    country: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "MLI"  # ISO3
    gazetteer: Path | None = None  # COD table: Location, Admin Level, P-Code, Name, Parent P-Code[, Valid from date]

    @field_validator("country", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _bundled_or_table(self) -> ReferenceConfig:
        if self.gazetteer is None and self.country != "MLI":
            raise ValueError(f"only Mali's gazetteer is bundled: set `gazetteer` to the COD P-code table of "
                             f"{self.country}")
        return self


class ExportConfig(_Strict):
    csv: Literal["excel", "plain"] = "excel"  # every CSV written: excel = UTF-8 BOM ';' (French Excel), plain = ','


class SourceConfig(_Strict):
    kind: KindName
    path: str | None = None
    url: str | None = None
    mapping: Path | None = None  # once loaded: the mapping file in use (configured, else the kind's default)
    enabled: bool = True
    # KoBo only
    asset_uid: str | None = None
    token_env: EnvName | None = None
    page_size: Annotated[int, Field(ge=1, le=30000)] = 500  # sources/kobo.py's KoboEndpoint says why
    timeout_seconds: float = 120.0
    personal_fields: list[str] = Field(default_factory=list)
    # monthly sources: older than this many days is stale
    freshness_days: Annotated[int, Field(ge=1)] = 62
    # file sources: values for fields the files do not carry (a presence-only 5W: { sector = "PRO" }), and the
    # reporting month ("YYYY-MM") when the files do not say it or say it wrongly
    defaults: dict[str, str] = Field(default_factory=dict)
    period: Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] | None = None

    @model_validator(mode="after")
    def _has_location(self) -> SourceConfig:
        if not self.path and not self.url:
            raise ValueError("needs `path` (a glob on disk) or `url`")
        if registry.kind(self.kind).loads == "pages" and self.url and not self.asset_uid and not self.path:
            raise ValueError("a kobo source needs `asset_uid`")
        return self


class PipelineConfig(_Strict):
    warehouse: WarehouseConfig = WarehouseConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    privacy: PrivacyConfig = PrivacyConfig()
    notify: NotifyConfig = NotifyConfig()
    reference: ReferenceConfig = ReferenceConfig()
    export: ExportConfig = ExportConfig()
    sources: dict[str, SourceConfig] = Field(default_factory=dict)
    base_dir: Path = Path(".")

    @field_validator("sources", mode="before")
    @classmethod
    def _source_names(cls, value: object) -> object:
        """A source's name becomes folder and file names (raw/<source>/…) and email lines: plain words only."""
        for name in value if isinstance(value, dict) else ():
            if not _SOURCE_NAME.fullmatch(str(name)):
                shown = str(name).encode("unicode_escape").decode("ascii")[:64]
                raise ValueError(f"source name '{shown}' may hold only letters, digits, '_' and '-' (it names "
                                 "folders of the raw zone, files and email lines)")
        return value

    def _resolve(self, path: Path | str) -> Path:
        """A path from the config, relative to the config file's folder (loaded configs hold absolute paths)."""
        candidate = Path(path)
        return candidate if candidate.is_absolute() else self.base_dir / candidate

    def gazetteer_path(self) -> Path | None:
        """The configured COD P-code table, resolved; None for the bundled Mali gazetteer."""
        return self._resolve(self.reference.gazetteer) if self.reference.gazetteer else None

    def resolved(self) -> PipelineConfig:
        """The same config with every path absolute: the one place that decides where things are."""
        warehouse = self.warehouse.model_copy(update={
            key: self._resolve(getattr(self.warehouse, key))
            for key in ("path", "analyst_path", "raw_dir", "reports_dir", "state_dir")})
        notify = self.notify.model_copy(update={"outbox_dir": self._resolve(self.notify.outbox_dir)})
        reference = self.reference.model_copy(update={"gazetteer": self.gazetteer_path()})
        sources = {name: source.model_copy(update={
            "path": str(self._resolve(source.path)) if source.path else None,
            "mapping": self._mapping_path(source),
        }) for name, source in self.sources.items()}
        return self.model_copy(update={"warehouse": warehouse, "notify": notify, "reference": reference,
                                       "sources": sources})

    def _mapping_path(self, source: SourceConfig) -> Path:
        """The source's mapping file. A packaged one is found by its bare name ('cmp.yaml') or its place in the
        package ('transforms/mappings/cmp.yaml'); any other path must exist: a mistyped one is a config error."""
        if source.mapping is None:
            return registry.mapping_path(source.kind, None)
        configured, written = self._resolve(source.mapping), Path(source.mapping)
        packaged_form = (not written.is_absolute() and written.parent.as_posix() in _PACKAGED_FORMS
                         and (configured.exists() or (registry.MAPPINGS_DIR / written.name).exists()))
        return registry.mapping_path(source.kind, configured) if packaged_form else configured

    def selected(self, names: list[str] | None) -> list[str]:
        """The sources a run loads: those named, else every enabled one."""
        return list(names or [n for n, s in self.sources.items() if s.enabled])

    def env_names(self) -> list[tuple[str, str]]:
        """(key, env-var name) pairs the configured sources and notifier will read."""
        names = [("privacy.pseudonym_key_env", self.privacy.pseudonym_key_env)]
        if self.notify.smtp_host:
            names += [(f"notify.{k}", v) for k, v in
                      (("username_env", self.notify.username_env), ("password_env", self.notify.password_env)) if v]
        names += [(f"sources.{name}.token_env", s.token_env) for name, s in self.sources.items()
                  if s.enabled and s.token_env and s.url]
        return names


def load_config(path: Path | str, *, require_env: bool = True) -> PipelineConfig:
    """Read and validate a pipeline.toml; raise ConfigError naming the file and the key."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: configuration file not found")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    try:
        config = PipelineConfig.model_validate({**data, "base_dir": path.resolve().parent}).resolved()
    except ValidationError as exc:
        raise ConfigError(f"{path}: {_first_error(exc)}") from exc
    check_gazetteer(config, path)
    check_mappings(config, path)
    check_analyst_group(config, path)
    if require_env:
        check_env(config, path)
    return config


def check_gazetteer(config: PipelineConfig, path: Path | str) -> None:
    """Fail when the configured P-code table is missing or cannot serve for the configured country."""
    table = config.gazetteer_path()
    if table is None:
        return
    if not table.is_file():
        raise ConfigError(f"{path}: `reference.gazetteer`: no file {table}")
    from protection_etl.warehouse.loader import GazetteerError, read_cod_gazetteer  # only for a configured table

    try:
        read_cod_gazetteer(table, config.reference.country)
    except GazetteerError as exc:
        raise ConfigError(f"{path}: `reference.gazetteer`: {exc}") from exc


def check_analyst_group(config: PipelineConfig, path: Path | str) -> None:
    """Fail when `warehouse.analyst_group` names no group of this machine."""
    import grp

    group = config.warehouse.analyst_group
    if group:
        try:
            grp.getgrnam(group)
        except KeyError:
            raise ConfigError(f"{path}: `warehouse.analyst_group`: no group {group!r} on this machine") from None


def paths_outside(config: PipelineConfig) -> list[tuple[str, Path]]:
    """The configured paths that leave the config's folder ('..', or absolute elsewhere), packaged mappings aside:
    allowed, and said once in the run log."""
    base = config.base_dir.resolve()
    paths = [(f"warehouse.{k}", getattr(config.warehouse, k))
             for k in ("path", "analyst_path", "raw_dir", "reports_dir", "state_dir")]
    paths += [("notify.outbox_dir", config.notify.outbox_dir), ("reference.gazetteer", config.reference.gazetteer)]
    for name, source in config.sources.items():
        paths += [(f"sources.{name}.path", Path(source.path) if source.path else None),
                  (f"sources.{name}.mapping", source.mapping)]
    packaged = registry.MAPPINGS_DIR.resolve()
    return [(key, Path(p)) for key, p in paths if p is not None
            and not Path(os.path.normpath(p)).is_relative_to(base)
            and not Path(os.path.normpath(p)).is_relative_to(packaged)]


def check_mappings(config: PipelineConfig, path: Path | str) -> None:
    """Fail when an enabled source's mapping file is not valid for its kind, before any source runs."""
    for name, source in config.sources.items():
        if source.enabled:
            try:
                registry.source_mapping(source.kind, source.mapping)
            except registry.MappingFileError as exc:
                raise ConfigError(f"{exc} (the mapping of sources.{name} in {path})") from exc


def check_env(config: PipelineConfig, path: Path | str) -> None:
    """Fail when an env var the config names is unset (the pseudonym key only for a KoBo source with a url)."""
    # the pseudonym key is a secret only where real submissions arrive: a replay of recorded pages has a demo key
    has_kobo = any(registry.kind(s.kind).privacy == "pseudonymised" and s.enabled and s.url
                   for s in config.sources.values())
    for key, name in config.env_names():
        if key.startswith("privacy.") and not has_kobo:
            continue
        if not os.environ.get(name):
            raise ConfigError(f"{path}: {key} names the environment variable {name}, which is not set")


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    key = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        return f"unknown key `{key}`"
    message = error["msg"].removeprefix("Value error, ")
    return f"`{key}`: {message}" if key else message
