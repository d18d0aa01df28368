"""`camsweep user ...`: local accounts and API tokens for the web app and API."""

from __future__ import annotations

import getpass
import os
from datetime import timedelta

import typer
from rich.table import Table

from camsweep.cli.common import cli_store, console, err_console, print_json
from camsweep.errors import AccountError

user_app = typer.Typer(help="Accounts and API tokens for the web app (audited).",
                       no_args_is_help=True)
token_app = typer.Typer(help="API tokens: random, shown once, stored hashed, revocable.",
                        no_args_is_help=True)
user_app.add_typer(token_app, name="token")

ACTOR_OPT = typer.Option(None, "--actor", help="Who makes the change, for the audit log (env "
                         "CAMSWEEP_ACTOR; default cli:<login name>).")
JSON_OPT = typer.Option(False, "--json", help="Print JSON.")


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")


def _actor(actor: str | None) -> str:
    given = actor or os.environ.get("CAMSWEEP_ACTOR")
    if given and given.strip():
        return given.strip()
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _password(username: str) -> str:
    """CAMSWEEP_PASSWORD for scripts; otherwise asked twice, never echoed."""
    from_env = os.environ.get("CAMSWEEP_PASSWORD")
    if from_env:
        return from_env
    if not os.isatty(0):
        raise AccountError("no password: set CAMSWEEP_PASSWORD or run in a terminal to be asked")
    first = getpass.getpass(f"Password for {username}: ")
    if getpass.getpass("Again: ") != first:
        raise AccountError("the two passwords differ; nothing was changed")
    return first


@user_app.command("add")
def user_add(
    name: str = typer.Argument(..., help="User name (letters, digits, . _ @ -)."),
    role: str = typer.Option(..., "--role",
                             help="viewer | surveyor | department_admin | central_admin"),
    department: str | None = typer.Option(None, "--department",
                                          help="The user's department (all roles but "
                                               "central_admin)."),
    procurement: bool = typer.Option(False, "--procurement",
                                     help="May see screening cases and the exclusion register."),
    create_department: bool = typer.Option(False, "--create-department",
                                           help="Create the department if no site list has "
                                                "named it yet."),
    actor: str | None = ACTOR_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Create an account; the password comes from CAMSWEEP_PASSWORD or a prompt."""
    from camsweep.web.accounts import add_user

    password = _password(name)
    with cli_store() as store:
        user = add_user(store, _actor(actor), name, role, password, department=department,
                        procurement=procurement, create_department=create_department)
    if as_json:
        print_json(user.as_dict())
    else:
        console.print(f"created {user.username} ({user.role}"
                      f"{', ' + user.department if user.department else ''}"
                      f"{', procurement' if user.procurement else ''})", highlight=False)


@user_app.command("disable")
def user_disable(name: str = typer.Argument(...), actor: str | None = ACTOR_OPT) -> None:
    """Disable an account: its sessions end and its API tokens are revoked at once."""
    from camsweep.web.accounts import set_disabled

    with cli_store() as store:
        user = set_disabled(store, _actor(actor), name, True)
    console.print(f"disabled {user.username}; sessions ended, tokens revoked", highlight=False)


@user_app.command("enable")
def user_enable(name: str = typer.Argument(...), actor: str | None = ACTOR_OPT) -> None:
    """Enable a disabled account again (its old tokens stay revoked)."""
    from camsweep.web.accounts import set_disabled

    with cli_store() as store:
        user = set_disabled(store, _actor(actor), name, False)
    console.print(f"enabled {user.username}", highlight=False)


@user_app.command("reset")
def user_reset(name: str = typer.Argument(...), actor: str | None = ACTOR_OPT) -> None:
    """Set a new password (CAMSWEEP_PASSWORD or a prompt); the user's sessions end."""
    from camsweep.web.accounts import reset_password

    password = _password(name)
    with cli_store() as store:
        user = reset_password(store, _actor(actor), name, password)
    console.print(f"new password set for {user.username}; sessions ended", highlight=False)


@user_app.command("list")
def user_list(
    department: str | None = typer.Option(None, "--department", help="Only this department."),
    as_json: bool = JSON_OPT,
) -> None:
    """Every account with its role, department and state."""
    from camsweep.web.accounts import list_users

    with cli_store() as store:
        users = [u for u in list_users(store)
                 if department is None or u.department == department]
    if as_json:
        print_json([u.as_dict() for u in users])
        return
    table = Table()
    for col in ("user", "role", "department", "procurement", "state", "last sign-in"):
        table.add_column(col)
    for u in users:
        table.add_row(u.username, u.role, u.department or "(all)",
                      "yes" if u.procurement else "", "disabled" if u.disabled else "active",
                      u.last_login_at.isoformat(timespec="minutes") if u.last_login_at else "")
    console.print(table)


@token_app.command("create")
def token_create(
    name: str = typer.Argument(..., help="The user the token acts as."),
    label: str = typer.Option(..., "--name", help="What the token is for."),
    expires_days: int | None = typer.Option(None, "--expires-days", min=1, max=3650,
                                            help="Expire after this many days (default: "
                                                 "never; revoke it when done)."),
    actor: str | None = ACTOR_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Create an API token; the secret is printed once and only its hash is kept."""
    from camsweep.web.accounts import create_token

    with cli_store() as store:
        secret, view = create_token(store, _actor(actor), name, label,
                                    expires_in=timedelta(days=expires_days)
                                    if expires_days else None)
    if as_json:
        print_json({**view.as_dict(), "token": secret})
        return
    console.print(secret, highlight=False, soft_wrap=True)
    err_console.print(f"token {view.id} for {view.username}: copy it now, it is not shown "
                      "again", highlight=False)


@token_app.command("revoke")
def token_revoke(token_id: int = typer.Argument(..., help="Token number (see token list)."),
                 actor: str | None = ACTOR_OPT) -> None:
    """Revoke a token: it stops working at once."""
    from camsweep.web.accounts import revoke_token

    with cli_store() as store:
        view = revoke_token(store, _actor(actor), token_id)
    console.print(f"revoked token {view.id} of {view.username}", highlight=False)


@token_app.command("list")
def token_list(name: str | None = typer.Argument(None, help="Only this user's tokens."),
               all_: bool = typer.Option(False, "--all", help="Include sign-in tokens the "
                                         "API issued (POST /api/token)."),
               as_json: bool = JSON_OPT) -> None:
    """API tokens (never their secrets)."""
    from camsweep.web.accounts import list_tokens

    with cli_store() as store:
        tokens = list_tokens(store, name, include_sign_in=all_)
    if as_json:
        print_json([t.as_dict() for t in tokens])
        return
    table = Table()
    for col in ("#", "user", "name", "starts", "created", "expires", "last used", "state"):
        table.add_column(col)
    for t in tokens:
        table.add_row(str(t.id), t.username, t.name, t.prefix + "…",
                      t.created_at.isoformat(timespec="minutes"),
                      t.expires_at.isoformat(timespec="minutes") if t.expires_at else "never",
                      t.last_used_at.isoformat(timespec="minutes") if t.last_used_at else "",
                      "active" if t.active else ("revoked" if t.revoked_at else "expired"))
    console.print(table)
