"""All configuration of the hub, in one validated object read from the environment.

Variables carry the `HUB_` prefix, except the three a Neo4j operator already
knows: `NEO4J_URI`, `NEO4J_USER` and `NEO4J_PASSWORD`. When `NEO4J_URI` is
unset the hub runs its own local Neo4j (the embedded default); when it is set,
the hub uses that server and starts nothing.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

NEO4J_SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")
MemorySize = Annotated[str, Field(pattern=r"^[1-9][0-9]*[kKmMgG]$")]
Port = Annotated[int, Field(ge=1, le=65535)]


class Mode(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HUB_",
        extra="forbid",
        frozen=True,
        populate_by_name=True,
        validate_default=True,
    )

    mode: Mode = Field(
        Mode.PRODUCTION,
        description="development turns on GraphiQL; anything public runs in production",
    )
    host: str = Field("127.0.0.1", description="address `hub serve` listens on")
    port: Port = Field(8000, description="port `hub serve` listens on")
    state_dir: Path = Field(Path(".hub"), description="local state: Neo4j data, keys, logs")
    jar_cache: Path = Field(Path(".cache/neo4j"), description="downloaded Neo4j jars")

    neo4j_uri: str | None = Field(None, validation_alias="NEO4J_URI")
    neo4j_user: str = Field("neo4j", validation_alias="NEO4J_USER", min_length=1)
    neo4j_password: SecretStr | None = Field(None, validation_alias="NEO4J_PASSWORD")
    neo4j_database: str = Field("neo4j", min_length=1)

    neo4j_home: Path | None = Field(None, description="local Neo4j data folder")
    neo4j_bolt_port: Port = 7687
    neo4j_heap: MemorySize = "1g"
    neo4j_pagecache: MemorySize = "512m"
    neo4j_transaction_memory: MemorySize = "1g"
    neo4j_start_timeout: float = Field(180.0, gt=0)

    key_dir: Path | None = Field(None, description="local key files (KEK, key ring)")
    departments_file: Path | None = Field(
        None, description="the departments' addresses and our credentials (JSON, mode 0600)"
    )
    agency_persons_per_hour: int = Field(
        200,
        ge=1,
        le=100_000,
        description="distinct persons one agency principal may look up per hour",
    )
    department_timeout: float = Field(15.0, gt=0, le=300, description="seconds per department call")

    # Bearer tokens. With a JWKS (file or URL) only its keys verify; without one,
    # the local signing key `local_key_dir / "token-signing-key.pem"` does.
    token_issuer: str = Field("verification-hub-local", min_length=1, description="required iss")
    token_audience: str = Field("verification-hub", min_length=1, description="required aud")
    jwks_file: Path | None = Field(None, description="the issuer's public keys (JWKS JSON)")
    jwks_url: str | None = Field(None, description="the issuer's JWKS endpoint (https)")
    token_leeway_seconds: int = Field(30, ge=0, le=300, description="clock skew allowed")
    token_max_lifetime_seconds: int = Field(
        12 * 3600, gt=0, le=7 * 24 * 3600, description="longest exp - iat accepted"
    )

    @field_validator("jwks_url")
    @classmethod
    def _check_jwks_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        """Keys fetched over plain HTTP could be swapped by anyone on the path."""
        if value is None or value == "":
            return None
        if info.data.get("jwks_file") is not None:
            raise ValueError("set HUB_JWKS_FILE or HUB_JWKS_URL, not both")
        parts = urlsplit(value)
        loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
        if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
            raise ValueError("HUB_JWKS_URL must be https:// (http only on 127.0.0.1 or localhost)")
        if not parts.hostname:
            raise ValueError("HUB_JWKS_URL has no host")
        return value

    @field_validator("jwks_file", mode="before")
    @classmethod
    def _empty_jwks_file(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def uses_jwks(self) -> bool:
        """Whether an external issuer's keys verify tokens (then the local key is not trusted)."""
        return self.jwks_file is not None or self.jwks_url is not None

    @field_validator("neo4j_uri")
    @classmethod
    def _check_uri(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        parts = urlsplit(value)
        if parts.scheme not in NEO4J_SCHEMES:
            raise ValueError(f"NEO4J_URI must start with one of {', '.join(NEO4J_SCHEMES)}://")
        if not parts.hostname:
            raise ValueError("NEO4J_URI has no host")
        if parts.username or parts.password:
            raise ValueError("put credentials in NEO4J_USER/NEO4J_PASSWORD, not in NEO4J_URI")
        return value

    @property
    def uses_local_neo4j(self) -> bool:
        return self.neo4j_uri is None

    @property
    def local_key_dir(self) -> Path:
        return self.key_dir if self.key_dir is not None else self.state_dir / "keys"

    @property
    def local_neo4j_home(self) -> Path:
        return self.neo4j_home if self.neo4j_home is not None else self.state_dir / "neo4j"
