from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from hub.settings import Mode, Settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("HUB_", "NEO4J_")):
            monkeypatch.delenv(name)


def test_defaults_are_safe_and_local() -> None:
    settings = Settings()
    assert settings.mode is Mode.PRODUCTION
    assert settings.host == "127.0.0.1"
    assert settings.uses_local_neo4j
    assert settings.local_neo4j_home == Path(".hub/neo4j")


def test_hub_prefix_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_MODE", "development")
    monkeypatch.setenv("HUB_PORT", "9001")
    monkeypatch.setenv("HUB_NEO4J_HOME", "/srv/graph")
    settings = Settings()
    assert settings.mode is Mode.DEVELOPMENT
    assert settings.port == 9001
    assert settings.local_neo4j_home == Path("/srv/graph")


def test_neo4j_variables_have_no_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEO4J_URI", "neo4j://graph.internal:7687")
    monkeypatch.setenv("NEO4J_USER", "hub")
    monkeypatch.setenv("NEO4J_PASSWORD", "s3cret-pass")
    settings = Settings()
    assert not settings.uses_local_neo4j
    assert settings.neo4j_uri == "neo4j://graph.internal:7687"
    assert settings.neo4j_user == "hub"
    assert settings.neo4j_password is not None
    assert settings.neo4j_password.get_secret_value() == "s3cret-pass"
    assert "s3cret-pass" not in repr(settings)


@pytest.mark.parametrize(
    "uri",
    ["bolt://127.0.0.1:7687", "neo4j://a.example:7687", "neo4j+s://x.example", "bolt+ssc://h"],
)
def test_accepted_uri_schemes(uri: str) -> None:
    assert Settings(neo4j_uri=uri).neo4j_uri == uri


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("http://127.0.0.1:7474", "must start with one of"),
        ("127.0.0.1:7687", "must start with one of"),
        ("bolt://", "has no host"),
        ("bolt://neo4j:pw@127.0.0.1:7687", "not in NEO4J_URI"),
    ],
)
def test_rejected_uris_say_why(uri: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(neo4j_uri=uri)


def test_empty_uri_means_the_local_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEO4J_URI", "")
    assert Settings().uses_local_neo4j


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("port", 0),
        ("port", 70000),
        ("neo4j_heap", "lots"),
        ("neo4j_pagecache", "0m"),
        ("mode", "debug"),
    ],
)
def test_bad_values_are_refused(field: str, value: object) -> None:
    with pytest.raises(ValidationError):
        Settings.model_validate({field: value})


def test_unknown_arguments_are_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(neo4j_url="bolt://x")  # type: ignore[call-arg]


def test_settings_are_immutable() -> None:
    settings = Settings()
    with pytest.raises(ValidationError):
        settings.port = 1  # type: ignore[misc]
