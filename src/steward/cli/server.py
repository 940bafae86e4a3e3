"""``steward serve`` and ``steward users``: the web app and its accounts."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from steward.cli.main import JsonOpt, ProjectOpt, _ctx, _dump, _out, app
from steward.cli.text import escape

users_app = typer.Typer(help="Users and API tokens of 'steward serve'.", no_args_is_help=True)
app.add_typer(users_app, name="users")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on. Anything but a loopback "
                                           "address needs a user first.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8400,
    secure_cookies: Annotated[bool, typer.Option(
        "--secure-cookies", help="Mark cookies Secure (behind an HTTPS proxy).")] = False,
    project: ProjectOpt = None,
) -> None:
    """Serve the web app and the JSON API (/api/v1) over this project."""
    try:
        from steward.server.serve import serve as run_server
    except ImportError as e:
        from steward.core.errors import StewardError

        raise StewardError(f"steward serve needs the server extra ({e.name} is missing): "
                           "pip install 'datasteward[server]'") from None
    run_server(str(project) if project else None, host, port, secure_cookies,
               lambda text: _out().print(escape(text)))


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="User name (lower case).")],
    role: Annotated[str, typer.Option(help="viewer, developer, owner or admin.")] = "viewer",
    domain: Annotated[list[str] | None, typer.Option(
        "--domain", "-d", help="A domain an owner holds (repeat).")] = None,
    owner: Annotated[list[str] | None, typer.Option(
        "--owner", "-o", help="An owner (as in the YAML) whose products they hold (repeat).")
                     ] = None,
    pii: Annotated[bool, typer.Option("--pii", help="May see personal data unmasked.")
                   ] = False,
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from standard input.")] = False,
    no_password: Annotated[bool, typer.Option(
        "--no-password", help="API tokens only (no web sign-in).")] = False,
    replace: Annotated[bool, typer.Option("--replace", help="Change an existing user.")
                       ] = False,
    project: ProjectOpt = None,
) -> None:
    """Add a user (or change one with --replace); the password is stored as a scrypt hash."""
    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif not no_password and not (replace and not sys.stdin.isatty()):
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    ctx = _ctx(project)
    user = ctx.accounts().add(name, role, password, domain or [], owner or [], pii, replace)
    ctx.audit("users.add", [], before=None, after={k: v for k, v in user.to_json().items()
                                                   if k not in ("tokens", "created_at")},
              reason=f"user {name} {'changed' if replace else 'added'}")
    _out().print(f"{'changed' if replace else 'added'} user {escape(name)} ({role}"
                 + (", pii" if pii else "") + ")")


@users_app.command("list")
def users_list(json_out: JsonOpt = False, project: ProjectOpt = None) -> None:
    """Users with their role, what they hold and how many tokens they have."""
    users = _ctx(project).accounts().list()
    if json_out:
        return _dump([u.to_json() for u in users])
    from rich.table import Table

    t = Table(title="users", title_justify="left")
    for col in ("user", "role", "holds", "pii", "password", "tokens"):
        t.add_column(col)
    for u in users:
        holds = ", ".join([*(f"domain {d}" for d in u.domains), *(f"owner {o}" for o in u.owners)])
        t.add_row(escape(u.name), u.role, escape(holds), "yes" if u.pii else "",
                  "yes" if u.has_password else "", str(len(u.tokens)))
    _out().print(t)
    if not users:
        _out().print("no users: 'steward serve' acts as you, on 127.0.0.1 only")
    return None


@users_app.command("remove")
def users_remove(name: Annotated[str, typer.Argument(help="User name.")],
                 project: ProjectOpt = None) -> None:
    """Remove a user, their tokens and their sessions."""
    ctx = _ctx(project)
    ctx.accounts().remove(name)
    ctx.audit("users.remove", [], before={"name": name}, after=None,
              reason=f"user {name} removed")
    _out().print(f"removed user {escape(name)}")


@users_app.command("token")
def users_token(
    name: Annotated[str, typer.Argument(help="User name.")],
    label: Annotated[str | None, typer.Option(help="What the token is for.")] = None,
    revoke: Annotated[str | None, typer.Option(help="Revoke this token id instead.")] = None,
    project: ProjectOpt = None,
) -> None:
    """Make an API token (printed once; only its hash is kept), or revoke one."""
    ctx = _ctx(project)
    if revoke:
        ctx.accounts().revoke_token(revoke)
        ctx.audit("users.token", [], before={"user": name, "token": revoke}, after=None,
                  reason="token revoked")
        _out().print(f"revoked token {escape(revoke)}")
        return
    token = ctx.accounts().new_token(name, label)
    ctx.audit("users.token", [], before=None, after={"user": name, "token": token[4:20],
                                                     "label": label}, reason="token issued")
    sys.stdout.write(token + "\n")
