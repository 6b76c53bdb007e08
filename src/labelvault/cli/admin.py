"""Admin commands: act on the database and key file directly (no server needed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from labelvault.config import Settings
from labelvault.errors import LabelvaultError

admin_app = typer.Typer(
    help="Administer an installation: init, migrate, audit, keys.", no_args_is_help=True
)

DataDirOpt = Annotated[
    Path, typer.Option("--data-dir", help="Installation directory.", envvar="LABELVAULT_DATA_DIR")
]
DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db", help="Database URL (default: SQLite in the data dir).", envvar="LABELVAULT_DB_URL"
    ),
]


def settings_for(data_dir: Path, db: str | None) -> Settings:
    return Settings(data_dir=data_dir, db_url=db)


def fail(error: LabelvaultError, code: int = 1) -> None:
    typer.echo(f"error: {error.detail}", err=True)
    if error.hint:
        typer.echo(f"hint: {error.hint}", err=True)
    raise typer.Exit(code)


@admin_app.command()
def init(
    owner_email: Annotated[str, typer.Option("--owner-email", help="Email of the org owner.")],
    data_dir: DataDirOpt = Path("labelvault-data"),
    db: DbOpt = None,
    org_name: Annotated[str | None, typer.Option(help="Organisation name.")] = None,
    password: Annotated[
        str | None,
        typer.Option(help="Owner's web password (optional).", envvar="LABELVAULT_OWNER_PASSWORD"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create the database, the master key, an org and its owner; print the owner's token."""
    from labelvault.services import accounts, setup

    try:
        platform = setup.prepare(settings_for(data_dir, db))
        try:
            org = accounts.init_org(platform, owner_email, org_name=org_name, password=password)
        finally:
            platform.close()
    except LabelvaultError as exc:
        fail(exc)
        return
    out = {"org_id": org.org_id, "user_id": org.user_id, "token": org.token}
    if as_json:
        typer.echo(json.dumps(out))
    else:
        typer.echo(f"Created org {org.org_id} with owner {owner_email} (user {org.user_id}).")
        typer.echo(f"API token (shown once, keep it safe): {org.token}")
        typer.echo(
            f"Master key: {settings_for(data_dir, db).resolved_key_file()} "
            "- back it up apart from the database."
        )


@admin_app.command()
def migrate(data_dir: DataDirOpt = Path("labelvault-data"), db: DbOpt = None) -> None:
    """Upgrade the database schema to the newest version."""
    from labelvault.services import setup
    from labelvault.storage import migrate as migrations

    try:
        platform = setup.prepare(settings_for(data_dir, db))
    except LabelvaultError as exc:
        fail(exc)
        return
    typer.echo(f"schema at revision {migrations.current_revision(platform.db)}")
    platform.close()


@admin_app.command("audit-verify")
def audit_verify(data_dir: DataDirOpt = Path("labelvault-data"), db: DbOpt = None) -> None:
    """Exit 0 if every audit chain is intact, 1 naming the first broken entry otherwise."""
    from labelvault.services import audit
    from labelvault.storage.database import Database

    settings = settings_for(data_dir, db)
    if settings.db_url is None and not (data_dir / "labelvault.db").exists():
        typer.echo(f"error: no database at {data_dir / 'labelvault.db'}", err=True)
        typer.echo("hint: pass the --data-dir you gave `labelvault admin init`", err=True)
        raise typer.Exit(2)
    database = Database(settings.resolved_db_url())
    try:
        checked, problem = audit.verify(database)
    finally:
        database.dispose()
    if problem is not None:
        typer.echo(f"BROKEN: {problem}", err=True)
        typer.echo(f"checked {checked} entries before the break", err=True)
        raise typer.Exit(1)
    typer.echo(f"OK: {checked} audit entries verified, every chain intact")


@admin_app.command("rotate-key")
def rotate_key(data_dir: DataDirOpt = Path("labelvault-data"), db: DbOpt = None) -> None:
    """Add a new master key and re-wrap every project key under it (no downtime)."""
    from labelvault.services import projects, setup

    try:
        platform = setup.prepare(settings_for(data_dir, db))
        new_id = platform.keys.rotate()  # type: ignore[attr-defined]
        result = projects.rotate_keys(platform)
        platform.close()
    except LabelvaultError as exc:
        fail(exc)
        return
    typer.echo(f"new master key {new_id}; re-wrapped {result['rewrapped']} project key(s)")
