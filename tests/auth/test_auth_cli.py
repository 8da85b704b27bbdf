"""`gridgov users ...` and `gridgov keys ...` on SQLite and PostGIS."""

from __future__ import annotations

import pytest
import typer
from auth_helpers import store_url
from typer.testing import CliRunner, Result

from gis_core.auth import Accounts
from gis_core.cli import users
from gis_core.storage import Store


@pytest.fixture
def cli() -> typer.Typer:
    """The command groups as `gis_core.cli.register_commands` adds them."""
    app = typer.Typer()
    users.register(app)
    return app


def run(cli: typer.Typer, store: Store, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(
        cli, [*args, "--url", store_url(store)], input=input, env={"COLUMNS": "200"}
    )


def test_users_add_list_passwd_disable(cli: typer.Typer, store: Store) -> None:
    accounts = Accounts(store)
    r = run(
        cli,
        store,
        "users",
        "add",
        "Zhang",
        "--role",
        "dispatcher",
        "--area",
        "340111001",
        "--password-stdin",
        input="from stdin pw\n",
    )
    assert r.exit_code == 0, r.output
    assert "zhang" in r.stdout and "派遣员" in r.stdout and "340111001" in r.stdout
    assert accounts.authenticate("zhang", "from stdin pw") is not None

    twice = "prompted pw\nprompted pw\n"  # the prompt asks for confirmation
    r = run(cli, store, "users", "add", "li", "--role", "analyst", input=twice)
    assert r.exit_code == 0, r.output
    assert accounts.authenticate("li", "prompted pw").role == "analyst"
    r = run(cli, store, "users", "add", "wang", "--role", "planner", "--password", "option pw!")
    assert r.exit_code == 0 and accounts.get_user("wang").jurisdiction is None

    for args, message in (
        (("users", "add", "zhang", "--role", "analyst", "--password", "xxxxxxxx"), "exists"),
        (("users", "add", "x", "--role", "boss", "--password", "xxxxxxxx"), "unknown role"),
        (
            ("users", "add", "x", "--role", "analyst", "--area", "3401", "--password", "xxxxxxxx"),
            "district",
        ),
        (("users", "add", "x", "--role", "analyst", "--password", "short"), "too short"),
        (("users", "passwd", "nobody", "--password", "xxxxxxxx"), "no user"),
    ):
        r = run(cli, store, *args)
        assert r.exit_code == 2 and message in r.output, (args, r.output)
        assert "Traceback" not in r.output

    r = run(cli, store, "users", "list")
    assert r.exit_code == 0 and "3 user(s)" in r.stdout
    assert all(name in r.stdout for name in ("zhang", "li", "wang"))
    r = run(cli, store, "users", "passwd", "li", "--password-stdin", input="changed pw\n")
    assert r.exit_code == 0 and accounts.authenticate("li", "changed pw") is not None
    assert run(cli, store, "users", "disable", "li").exit_code == 0
    assert accounts.authenticate("li", "changed pw") is None
    assert "disabled" in run(cli, store, "users", "list").stdout
    assert run(cli, store, "users", "enable", "li").exit_code == 0


def test_keys_create_list_revoke(cli: typer.Typer, store: Store) -> None:
    accounts = Accounts(store)
    r = run(
        cli,
        store,
        "keys",
        "create",
        "hotline-12345",
        "--scopes",
        "locate,events:read,events:write,layers,open311",
        "--rate",
        "600/min",
    )
    assert r.exit_code == 0, r.output
    key = r.stdout.strip()  # the key alone on stdout, the explanation on stderr
    assert key.startswith("gg_") and "\n" not in key
    assert "not shown again" in r.stderr
    info = accounts.find_key(key)
    assert info.name == "hotline-12345" and str(info.rate) == "600/min"
    assert info.scopes == {"locate", "events:read", "events:write", "layers", "open311"}

    r = run(cli, store, "keys", "list")
    assert r.exit_code == 0 and "hotline-12345" in r.stdout and key[:11] in r.stdout
    assert key not in r.stdout
    for args, message in (
        (("keys", "create", "hotline-12345", "--scopes", "locate"), "live key named"),
        (("keys", "create", "x", "--scopes", "locat"), "unknown"),
        (("keys", "create", "x", "--scopes", "locate", "--rate", "lots"), "rate"),
        (("keys", "revoke", "nobody"), "no live key"),
    ):
        r = run(cli, store, *args)
        assert r.exit_code == 2 and message in r.output, (args, r.output)

    r = run(cli, store, "keys", "revoke", "hotline-12345")
    assert r.exit_code == 0 and not accounts.find_key(key).active
    assert "0 API key(s)" in run(cli, store, "keys", "list").stdout
    assert "revoked" in run(cli, store, "keys", "list", "--all").stdout
    r = run(cli, store, "keys", "create", "open", "--scopes", "locate", "--rate", "unlimited")
    assert r.exit_code == 0 and accounts.find_key(r.stdout.strip()).rate is None


def test_commands_refuse_an_unmigrated_database(cli: typer.Typer, tmp_path) -> None:
    r = CliRunner().invoke(cli, ["users", "list", "--url", f"sqlite:///{tmp_path / 'none.db'}"])
    assert r.exit_code == 2 and "gridgov db upgrade" in r.output
