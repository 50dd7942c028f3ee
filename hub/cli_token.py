"""`hub token`: a development bearer token, signed by the local key.

For the embedded default and for trying the API by hand: real deployments get
tokens from their identity provider and configure its JWKS, and then the local
key is not trusted, so this command refuses rather than mint a token the hub
would turn away. Only the token goes to stdout, so `$(hub token ...)` works.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Final, TypeVar

import typer

from authz.principal import InvalidPrincipal, Principal, Privilege, Role
from authz.tokens import SigningKey, mint
from hub.authentication import local_token_key_path
from hub.cli_support import UsageError, load_settings, user_errors

_TTL: Final = re.compile(r"([1-9][0-9]{0,6})([smhd])")
_UNIT_SECONDS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_Choice = TypeVar("_Choice", Role, Privilege)


def parse_ttl(value: str) -> timedelta:
    """'90s', '30m', '1h' or '1d' as a duration."""
    match = _TTL.fullmatch(value.strip())
    if match is None:
        raise UsageError(f"--ttl {value!r}: give a number and a unit, e.g. 30m, 1h (s, m, h, d)")
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def _choice(kind: type[_Choice], value: str, option: str) -> _Choice:
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        raise UsageError(f"{option} {value!r} is not one of: {choices}") from None


def token(
    *,
    role: Annotated[str, typer.Option(help="caseworker, verification_centre, agency, ...")],
    region: Annotated[
        str, typer.Option(help="9-digit township (caseworker) or 6-digit region code")
    ],
    org: Annotated[str, typer.Option(help="the organisation the token speaks for")] = "dev",
    subject: Annotated[str | None, typer.Option(help="the sub claim (default dev-ROLE)")] = None,
    ttl: Annotated[str, typer.Option(help="lifetime, e.g. 30m, 1h; at most the maximum")] = "1h",
    privilege: Annotated[
        list[str] | None, typer.Option("--privilege", help="an extra privilege (repeatable)")
    ] = None,
) -> None:
    """Mint a development token signed by the local key (never when a JWKS is configured)."""
    settings = load_settings()
    with user_errors():
        if settings.uses_jwks:
            raise UsageError(
                "HUB_JWKS_FILE or HUB_JWKS_URL is set, so the hub trusts only that issuer's "
                "keys and would refuse a locally signed token; get a token from the issuer"
            )
        lifetime = parse_ttl(ttl)
        maximum = timedelta(seconds=settings.token_max_lifetime_seconds)
        if lifetime > maximum:
            raise UsageError(
                f"--ttl {ttl} is longer than the maximum token lifetime of {maximum} "
                "(HUB_TOKEN_MAX_LIFETIME_SECONDS)"
            )
        chosen_role = _choice(Role, role, "--role")
        privileges = frozenset(_choice(Privilege, p, "--privilege") for p in privilege or [])
        try:
            principal = Principal(
                subject or f"dev-{chosen_role.value}", chosen_role, region, org, privileges
            )
        except InvalidPrincipal as error:
            raise UsageError(str(error)) from None
        key = SigningKey.load_or_create(local_token_key_path(settings))
        minted = mint(principal, lifetime, key, settings.token_issuer, settings.token_audience)
    typer.echo(minted)
