"""`hub token` as a user runs it: a token on stdout that the hub's own verifier accepts."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import jwt
import pytest
from typer.testing import CliRunner

from authz.principal import Principal, Privilege, Role
from hub.authentication import token_verifier_from_settings
from hub.cli import cli
from hub.settings import Settings
from tests.support import hub_env, run_hub


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """In-process runs read settings from os.environ: start from none of the hub's."""
    for name in list(os.environ):
        if name.startswith(("HUB_", "NEO4J_")):
            monkeypatch.delenv(name)
    return monkeypatch


def settings_for(tmp_path: Path) -> Settings:
    """What `hub_env(tmp_path)` configures, as the server would read it."""
    return Settings(state_dir=tmp_path / "state")


def test_a_minted_token_verifies(tmp_path: Path) -> None:
    result = run_hub(
        "token", "--role", "caseworker", "--region", "410702001", "--ttl", "30m",
        env=hub_env(tmp_path), timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert result.stdout == token + "\n"
    principal = token_verifier_from_settings(settings_for(tmp_path)).verify(token)
    assert principal == Principal("dev-caseworker", Role.CASEWORKER, "410702001", "dev")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 1800
    key_file = tmp_path / "state" / "keys" / "token-signing-key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_options_and_the_same_key_next_time(tmp_path: Path) -> None:
    env = hub_env(tmp_path)
    first = run_hub("token", "--role", "agency", "--region", "410700", env=env, timeout=60)
    second = run_hub(
        "token", "--role", "verification_centre", "--region", "410702", "--org", "weibin-centre",
        "--subject", "officer.li@weibin", "--privilege", "unmask_identifiers", "--ttl", "12h",
        env=env, timeout=60,
    )  # fmt: skip
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    kids = {jwt.get_unverified_header(r.stdout.strip())["kid"] for r in (first, second)}
    assert len(kids) == 1
    verifier = token_verifier_from_settings(settings_for(tmp_path))
    assert verifier.verify(second.stdout.strip()) == Principal(
        "officer.li@weibin",
        Role.VERIFICATION_CENTRE,
        "410702",
        "weibin-centre",
        frozenset({Privilege.UNMASK_IDENTIFIERS}),
    )


@pytest.mark.parametrize(
    ("args", "overrides", "message"),
    [
        (["--role", "root", "--region", "410702"], {}, "--role 'root' is not one of"),
        (["--role", "caseworker", "--region", "410702"], {}, "9-digit township"),
        (["--role", "agency", "--region", "410702", "--ttl", "soon"], {}, "--ttl 'soon'"),
        (["--role", "agency", "--region", "410702", "--ttl", "13h"], {}, "maximum token lifetime"),
        (
            ["--role", "agency", "--region", "410702", "--ttl", "2h"],
            {"HUB_TOKEN_MAX_LIFETIME_SECONDS": "3600"},
            "maximum token lifetime",
        ),
        (["--role", "agency", "--region", "410702", "--privilege", "god"], {}, "--privilege"),
        (["--role", "agency", "--region", "410702", "--org", "a b"], {}, "organisation"),
        (
            ["--role", "agency", "--region", "410702"],
            {"HUB_JWKS_URL": "https://idp.example/jwks"},
            "trusts only that issuer",
        ),
    ],
)
def test_bad_input_exits_2_with_one_clear_line(
    tmp_path: Path,
    clean_env: pytest.MonkeyPatch,
    args: list[str],
    overrides: dict[str, str],
    message: str,
) -> None:
    for name, value in hub_env(tmp_path, **overrides).items():
        if name.startswith("HUB_"):
            clean_env.setenv(name, value)
    result = CliRunner().invoke(cli, ["token", *args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert result.stderr.startswith("error: ")
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stdout == ""
    assert not (tmp_path / "state" / "keys" / "token-signing-key.pem").exists()


def test_a_loose_key_file_is_refused(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("HUB_STATE_DIR", str(tmp_path / "state"))
    runner = CliRunner()
    assert runner.invoke(cli, ["token", "--role", "auditor", "--region", "410700"]).exit_code == 0
    key_file = tmp_path / "state" / "keys" / "token-signing-key.pem"
    key_file.chmod(0o644)
    result = runner.invoke(cli, ["token", "--role", "auditor", "--region", "410700"])
    assert result.exit_code == 1
    assert "chmod 600" in result.stderr
    assert result.stdout == ""
