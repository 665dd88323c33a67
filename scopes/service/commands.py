"""`scopes serve`, `scopes clients ...`, `scopes keys ...`: running the token service.

Only click and the standard library are imported here; the server, the stores and the JOSE
library load when a command runs, so `scopes lint` in a pre-commit hook stays light.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from scopes._cli_common import (
    ExitCode,
    UsageFailure,
    load_policy,
    service_options,
)
from scopes.duration import parse_duration
from scopes.errors import ScopeSyntaxError
from scopes.model import UnknownScope
from scopes.service.ratelimit import RateLimit

if TYPE_CHECKING:
    from scopes.store import Client, ClientStore
    from scopes.tokens.keys import KeyRing

__all__ = ["clients", "keys", "serve"]


def __dir__() -> list[str]:
    return __all__


def _server_parts() -> tuple[Callable[[str], ClientStore], type[KeyRing]]:
    """Import what the token service needs, or say which extra to install."""
    try:
        from scopes.store import open_store
        from scopes.tokens.keys import KeyRing
    except ImportError as error:  # pragma: no cover - exercised without the extra installed
        raise UsageFailure(
            f"the token service needs the server extra ({error.name} is missing): "
            "pip install 'scopes-policy[server]'"
        ) from None
    return open_store, KeyRing


def _open_store(db: str) -> ClientStore:
    open_store, _ = _server_parts()
    from scopes.store import StoreError

    try:
        return open_store(db)
    except StoreError as error:
        raise UsageFailure(f"cannot open the client registry {db!r}: {error}") from None


def _duration_seconds(value: str, option: str) -> int:
    try:
        seconds = parse_duration(value).total_seconds()
    except ValueError as error:
        raise UsageFailure(f"{option}: {error}") from None
    if seconds < 1:
        raise UsageFailure(f"{option} must be at least one second (a unit-less string is "
                           f"milliseconds: did you mean '{value}s'?)")
    return int(seconds)


# -- serve --------------------------------------------------------------------------------------


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option("--issuer", metavar="URL", help="Token issuer (default: http://HOST:PORT).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes.")
@click.option("--rate-limit", "rate_limit", default="100/s", show_default=True, metavar="R",
              help="Per client and per address on the token endpoints: N/s or N/min; 0 = off.")
@click.option("--authz-only", is_flag=True,
              help="Serve only forward-auth (/authz/nginx, /authz/traefik, /authz/envoy/...) "
                   "and /healthz: no registry, no signing keys; needs --jwks.")
@click.option("--jwks", metavar="FILE|URL", help="With --authz-only: the keys to trust.")
@click.option("--audience", metavar="A", help="Forward-auth: the audience tokens must carry.")
@click.option("--decision-log", "decision_log", metavar="FILE",
              help="Forward-auth: one JSON line per decision here (default: stderr).")
@service_options
def serve(host: str, port: int, issuer: str | None, workers: int, rate_limit: str,
          authz_only: bool, jwks: str | None, audience: str | None, decision_log: str | None,
          db: str, keys: str, policy_path: str | None) -> int:
    """Run the token service (/oauth/token, /auth/issue-token, JWKS, metadata) and
    forward-auth for gateways; SIGHUP or an edit of --policy reloads the policy."""
    try:
        RateLimit.parse(rate_limit)
    except ValueError as error:
        raise UsageFailure(str(error)) from None
    load_policy(policy_path)  # a broken policy stops here, with its location
    policy_text = Path(policy_path).read_text(encoding="utf-8") if policy_path else None
    first_client = False
    if authz_only:
        if not jwks:
            raise UsageFailure("--authz-only needs --jwks FILE|URL: the keys tokens are signed with")
        _check_jwks(jwks)
        ring = None
    else:
        if jwks:
            raise UsageFailure("--jwks goes with --authz-only; a full server verifies with its "
                               "own keys")
        open_store, KeyRing = _server_parts()
        store = _open_store(db)
        try:
            first_client = not store.list()
        finally:
            store.close()
        ring = KeyRing.open(keys)
    try:
        import uvicorn

        from scopes.service import _listen
        from scopes.service.app import CONFIG_ENV, ServiceConfig, configure_logging
    except ImportError as error:
        raise UsageFailure(f"the token service needs the server extra ({error.name} is "
                           "missing): pip install 'scopes-policy[server]'") from None
    try:
        sock = _listen.bind(host, port)  # first: the real port of --port 0 is the issuer's
    except _listen.BindError as error:
        raise UsageFailure(str(error)) from None
    address = _listen.url(host, sock)
    if not authz_only:
        issuer = issuer or address
    config = ServiceConfig(db=db, keys=keys, policy_file=policy_path, policy_text=policy_text,
                           issuer=issuer, rate_limit=rate_limit, authz_only=authz_only,
                           jwks=jwks, audience=audience, decision_log=decision_log)
    os.environ[CONFIG_ENV] = config.to_json()
    configure_logging()
    if ring is None:
        click.echo(f"scopes: forward-auth on {address} (keys: {jwks})", err=True)
    else:
        click.echo(f"scopes: serving {issuer} (keys: {keys}, {len(ring.keys())} key(s); "
                   f"registry: {db})", err=True)
    if first_client:
        click.echo('scopes: no clients yet; create one with:\n'
                   f'  scopes clients create --scope "read:brands" --db {db}', err=True)
    server_config = uvicorn.Config(
        "scopes.service.app:app_from_environment",
        factory=True,
        workers=workers,
        access_log=False,  # our own access log never records query strings or headers
        log_level="warning",
        server_header=False,
    )
    started = _listen.serve(server_config, sock, lambda: click.echo(
        f"scopes: listening on {address}", err=True))
    if not started:
        raise UsageFailure("the server did not start; see the messages above")
    return ExitCode.OK


def _check_jwks(source: str) -> None:
    """Fail at start, with a message, when --jwks names no usable keys (a URL may be down
    for now: it is fetched again when tokens arrive)."""
    try:
        from scopes.tokens.jwks import KeySetError, PublicKeys
    except ImportError as error:  # pragma: no cover
        raise UsageFailure(f"--jwks needs the jwt extra ({error.name} is missing)") from None
    if source.lower().startswith(("http://", "https://")):
        return
    try:
        PublicKeys.from_file(source)
    except (KeySetError, OSError, ValueError) as error:
        raise UsageFailure(f"cannot load --jwks {source}: {error}") from None


# -- clients ------------------------------------------------------------------------------------


@click.group()
def clients() -> None:
    """Manage the clients that may obtain tokens."""


def _client_json(client: Client, secret: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"client_id": client.client_id}
    if secret is not None:
        data["client_secret"] = secret
    data.update({
        "scope": client.scope,
        "audiences": list(client.audiences),
        "any_user": client.any_user,
        "role": client.role,
        "lifetime": client.lifetime,
        "max_lifetime": client.max_lifetime,
        "created_at": client.created_at.isoformat(),
        "revoked_at": client.revoked_at.isoformat() if client.revoked_at else None,
    })
    return data


def _print_client(client: Client, secret: str | None = None) -> None:
    for key, value in _client_json(client, secret).items():
        if isinstance(value, list):
            value = " ".join(value) or "-"
        click.echo(f"{key + ':':<15} {'-' if value is None else value}")
    if secret is not None:
        click.echo("(the secret is shown once: store it now; only its hash is kept)", err=True)


@clients.command("create")
@click.option("--scope", metavar="S", help="The scopes the client may obtain.")
@click.option("--role", metavar="NAME", help="A role of the policy instead of --scope.")
@click.option("--audience", "audiences", multiple=True, metavar="URL",
              help="An audience the client may ask for (repeatable; the first is its default).")
@click.option("--any-user", is_flag=True, help="May mint tokens for any user_id:<id>.")
@click.option("--lifetime", default="1h", show_default=True, metavar="D",
              help="How long its access tokens live (vercel/ms duration, or seconds).")
@click.option("--max-lifetime", "max_lifetime", metavar="D",
              help="Cap on every token it obtains or mints (default: the lifetime).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@service_options
def clients_create(scope: str | None, role: str | None, audiences: tuple[str, ...],
                   any_user: bool, lifetime: str, max_lifetime: str | None, as_json: bool,
                   db: str, keys: str, policy_path: str | None) -> int:
    """Create a client; prints its id and its secret, once."""
    from scopes.store import Client, hash_secret, new_client_id, new_secret, utcnow

    policy = load_policy(policy_path)
    if role is None and scope is not None:
        text = scope
    elif role is not None and scope is None:
        if role not in policy.roles:
            known = ", ".join(sorted(policy.roles)) or "none"
            raise UsageFailure(f"unknown role {role!r} (the policy's roles: {known})")
        text = str(policy.roles[role])
    else:
        raise UsageFailure("give exactly one of --scope S or --role NAME")
    try:
        parsed = policy.parse(text)
    except ScopeSyntaxError as error:
        raise UsageFailure(f"--scope is malformed:\n{error}") from None
    for item in parsed:
        if type(item) is UnknownScope:
            raise UsageFailure(policy.catalogue.unknown(item.text).message)
    if not parsed:
        raise UsageFailure("--scope is empty: a client needs at least one scope")
    life = _duration_seconds(lifetime, "--lifetime")
    cap = _duration_seconds(max_lifetime, "--max-lifetime") if max_lifetime else life
    if cap < life:
        raise UsageFailure("--max-lifetime must not be shorter than --lifetime")
    secret = new_secret()
    client = Client(new_client_id(), hash_secret(secret), str(parsed), tuple(audiences), any_user,
                    life, cap, utcnow(), None, role)
    store = _open_store(db)
    try:
        store.create(client)
    finally:
        store.close()
    _show_with_secret(client, secret, as_json)
    return ExitCode.OK


@clients.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@service_options
def clients_list(as_json: bool, db: str, keys: str, policy_path: str | None) -> int:
    """List clients (never their secrets)."""
    store = _open_store(db)
    try:
        found = store.list()
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps([_client_json(c) for c in found]))
    else:
        for client in found:
            state = "revoked" if client.revoked else "active"
            click.echo(f"{client.client_id}  {state:<7}  {client.scope}")
    return ExitCode.OK


def _one_client(db: str, client_id: str,
                action: Callable[[ClientStore], Client | None]) -> Client:
    store = _open_store(db)
    try:
        result = action(store)
    finally:
        store.close()
    if result is None:
        raise click.ClickException(f"no client {client_id!r}")
    return result


def _show(client: Client, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(_client_json(client)))
    else:
        _print_client(client)


def _show_with_secret(client: Client, secret: str, as_json: bool) -> None:
    """The one time a secret is shown: DESIGN's `{client_id, client_secret, scope, audiences}`."""
    if as_json:
        click.echo(json.dumps({"client_id": client.client_id, "client_secret": secret,
                               "scope": client.scope, "audiences": list(client.audiences)}))
    else:
        _print_client(client, secret)


@clients.command("show")
@click.argument("client_id")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@service_options
def clients_show(client_id: str, as_json: bool, db: str, keys: str,
                 policy_path: str | None) -> int:
    """Show one client."""
    _show(_one_client(db, client_id, lambda store: store.get(client_id)), as_json)
    return ExitCode.OK


@clients.command("revoke")
@click.argument("client_id")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@service_options
def clients_revoke(client_id: str, as_json: bool, db: str, keys: str,
                   policy_path: str | None) -> int:
    """Revoke a client: from its next request on, it gets no tokens and mints none."""
    _show(_one_client(db, client_id, lambda store: store.revoke(client_id)), as_json)
    return ExitCode.OK


@clients.command("rotate-secret")
@click.argument("client_id")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@service_options
def clients_rotate_secret(client_id: str, as_json: bool, db: str, keys: str,
                          policy_path: str | None) -> int:
    """Give a client a new secret (printed once); the old one stops working at once."""
    from scopes.store import hash_secret, new_secret

    secret = new_secret()
    client = _one_client(db, client_id,
                         lambda store: store.set_secret_hash(client_id, hash_secret(secret)))
    _show_with_secret(client, secret, as_json)
    return ExitCode.OK


# -- keys ---------------------------------------------------------------------------------------


@click.group()
def keys() -> None:
    """Manage the signing keys (the newest signs; all are published)."""


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@service_options
def keys_list(as_json: bool, db: str, keys: str, policy_path: str | None) -> int:
    """List the signing keys, newest last."""
    _, KeyRing = _server_parts()
    ring = KeyRing.open(keys)
    infos = ring.keys()
    if as_json:
        click.echo(json.dumps([{"kid": k.kid, "alg": k.alg, "created": k.created.isoformat()}
                               for k in infos]))
    else:
        for info in infos:
            click.echo(f"{info.kid}  {info.alg:<6}  {info.created.isoformat()}")
    return ExitCode.OK


@keys.command("rotate")
@click.option("--algorithm", type=click.Choice(["EdDSA", "ES256", "RS256"]),
              help="Algorithm of the new key (default: the newest key's).")
@service_options
def keys_rotate(algorithm: str | None, db: str, keys: str, policy_path: str | None) -> int:
    """Add a new newest key: it signs from now on; the old ones still verify."""
    _, KeyRing = _server_parts()
    info = KeyRing.open(keys).rotate(algorithm)
    click.echo(f"{info.kid}  {info.alg}")
    return ExitCode.OK
