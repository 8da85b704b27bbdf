"""`gridgov users ...` and `gridgov keys ...`: accounts and API keys, for admins.

Whoever can run these against the database is an admin by definition (they hold the
database URL), so the commands do not log in. Plain secrets are never stored: a new API
key is printed once (alone on stdout, so `KEY=$(gridgov keys create ...)` works) and
passwords are read from a prompt, stdin or, least safely, the command line.
"""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gis_core.auth import KEY_SCOPES, ROLE_LABELS, ROLE_SCOPES, ROLES, AccountError, Accounts, Rate
from gis_core.auth.accounts import normalise_username
from gis_core.auth.roles import check_role
from gis_core.cli.db import UrlOpt, db_errors
from gis_core.storage import Store

out = Console()
err = Console(stderr=True)

ROLE_HELP = "; ".join(f"{r} ({ROLE_LABELS[r]})" for r in ROLES)
SCOPE_HELP = ", ".join(sorted(KEY_SCOPES))

AreaOpt = Annotated[
    str | None,
    typer.Option(
        "--area",
        help="Jurisdiction: admin-area code, district 6 / street 9 / community 12 / grid 15"
        " digits (default: everywhere).",
    ),
]
PasswordOpt = Annotated[
    str | None,
    typer.Option(
        "--password",
        help="The password (visible in shell history and process lists: prefer the prompt"
        " or --password-stdin).",
    ),
]
PasswordStdinOpt = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from the first stdin line.")
]


def _accounts(url: str | None) -> tuple[Store, Accounts]:
    store = Store(url)
    store.ensure_current()
    return store, Accounts(store)


def _password(password: str | None, stdin: bool) -> str:
    if password is not None and stdin:
        raise ValueError("give --password or --password-stdin, not both")
    if stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if password is not None:
        return password
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


def _who() -> str | None:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return None


# -- users --------------------------------------------------------------------------------


@db_errors
def add_user(
    name: Annotated[str, typer.Argument(help="Login name (case-insensitive).")],
    role: Annotated[str, typer.Option("--role", help=f"One of: {ROLE_HELP}.")],
    area: AreaOpt = None,
    unit: Annotated[
        str | None,
        typer.Option("--unit", help="Responsible unit code (handlers act for their unit)."),
    ] = None,
    display_name: Annotated[
        str | None, typer.Option("--display-name", help="Name shown in the UI and history.")
    ] = None,
    password: PasswordOpt = None,
    password_stdin: PasswordStdinOpt = False,
    url: UrlOpt = None,
) -> None:
    """Add a user account with a role and a jurisdiction."""
    store, accounts = _accounts(url)
    try:
        # Refuse bad input before asking for a password, not after.
        check_role(role)
        accounts.check_area(area)
        if accounts.get_user(normalise_username(name)) is not None:
            raise AccountError(f"user {name.strip().lower()!r} already exists")
        user = accounts.add_user(
            name,
            _password(password, password_stdin),
            role,
            area,
            display_name=display_name,
            unit_code=unit,
        )
    finally:
        store.dispose()
    scopes = ", ".join(sorted(ROLE_SCOPES[user.role]))
    out.print(
        f"added user [bold]{escape(user.username)}[/]: {user.role} ({ROLE_LABELS[user.role]}),"
        f" area {user.area_code or 'everywhere'}; scopes {scopes}"
    )


@db_errors
def list_users(url: UrlOpt = None) -> None:
    """List user accounts."""
    store, accounts = _accounts(url)
    try:
        users = accounts.list_users()
    finally:
        store.dispose()
    table = Table(title=f"{len(users)} user(s)")
    for col in ("username", "role", "area", "display name", "active", "last login"):
        table.add_column(col)
    for u in users:
        table.add_row(
            escape(u.username),
            f"{u.role} {ROLE_LABELS[u.role]}",
            u.area_code or "everywhere",
            escape(u.display_name or ""),
            "yes" if u.active else "[red]disabled[/]",
            u.last_login_at.strftime("%Y-%m-%d %H:%M") if u.last_login_at else "",
        )
    out.print(table)


@db_errors
def passwd(
    name: Annotated[str, typer.Argument(help="Login name.")],
    password: PasswordOpt = None,
    password_stdin: PasswordStdinOpt = False,
    url: UrlOpt = None,
) -> None:
    """Set a user's password; the user's current tokens stop working."""
    store, accounts = _accounts(url)
    try:
        user = accounts.set_password(name, _password(password, password_stdin))
    finally:
        store.dispose()
    out.print(f"password of [bold]{escape(user.username)}[/] changed")


def _set_active(name: str, active: bool, url: str | None) -> None:
    store, accounts = _accounts(url)
    try:
        user = accounts.set_active(name, active)
    finally:
        store.dispose()
    out.print(f"[bold]{escape(user.username)}[/] {'enabled' if active else 'disabled'}")


@db_errors
def disable(name: Annotated[str, typer.Argument()], url: UrlOpt = None) -> None:
    """Disable a login (its tokens stop working at once)."""
    _set_active(name, False, url)


@db_errors
def enable(name: Annotated[str, typer.Argument()], url: UrlOpt = None) -> None:
    """Enable a disabled login."""
    _set_active(name, True, url)


# -- keys ---------------------------------------------------------------------------------


@db_errors
def create_key(
    name: Annotated[str, typer.Argument(help="The application's name (unique among live keys).")],
    scopes: Annotated[str, typer.Option("--scopes", help=f"Comma-separated: {SCOPE_HELP}.")],
    rate: Annotated[
        str,
        typer.Option("--rate", help="Requests allowed, e.g. 600/min, 10/s, or 'unlimited'."),
    ] = "600/min",
    area: AreaOpt = None,
    url: UrlOpt = None,
) -> None:
    """Create an API key; it is shown once, only its hash is stored."""
    parsed_rate = Rate.parse(rate)
    store, accounts = _accounts(url)
    try:
        info, key = accounts.create_key(name, scopes, parsed_rate, area, created_by=_who())
    finally:
        store.dispose()
    err.print(
        f"created key [bold]{escape(info.name)}[/]: scopes {', '.join(sorted(info.scopes))};"
        f" rate {info.rate or 'unlimited'}; area {info.area_code or 'everywhere'}.\n"
        "[yellow]Store it now: it is not shown again.[/] Send it as the X-API-Key header."
    )
    print(key)


@db_errors
def list_keys(
    all_: Annotated[bool, typer.Option("--all", help="Include revoked keys.")] = False,
    url: UrlOpt = None,
) -> None:
    """List API keys (prefixes only: the keys themselves are not stored)."""
    store, accounts = _accounts(url)
    try:
        keys = accounts.list_keys(include_revoked=all_)
    finally:
        store.dispose()
    table = Table(title=f"{len(keys)} API key(s)")
    for col in ("name", "key", "scopes", "rate", "area", "created", "state"):
        table.add_column(col)
    for k in keys:
        table.add_row(
            escape(k.name),
            f"{k.prefix}...",
            " ".join(sorted(k.scopes)),
            str(k.rate or "unlimited"),
            k.area_code or "everywhere",
            k.created_at.strftime("%Y-%m-%d %H:%M"),
            "live" if k.active else f"[red]revoked {k.revoked_at:%Y-%m-%d %H:%M}[/]",
        )
    out.print(table)


@db_errors
def revoke_key(
    name: Annotated[str, typer.Argument(help="Name of the live key to revoke.")],
    url: UrlOpt = None,
) -> None:
    """Revoke an API key: refused from the next request on (the row stays, for audit)."""
    store, accounts = _accounts(url)
    try:
        info = accounts.revoke_key(name)
    finally:
        store.dispose()
    out.print(f"revoked key [bold]{escape(info.name)}[/] ({info.prefix}...)")


def register(app: typer.Typer) -> None:
    """Add the `users` and `keys` command groups to the top-level app."""
    users_app = typer.Typer(help="User accounts, roles and jurisdictions.", no_args_is_help=True)
    users_app.command("add")(add_user)
    users_app.command("list")(list_users)
    users_app.command("passwd")(passwd)
    users_app.command("disable")(disable)
    users_app.command("enable")(enable)
    app.add_typer(users_app, name="users")

    keys_app = typer.Typer(help="API keys for external applications.", no_args_is_help=True)
    keys_app.command("create")(create_key)
    keys_app.command("list")(list_keys)
    keys_app.command("revoke")(revoke_key)
    app.add_typer(keys_app, name="keys")
