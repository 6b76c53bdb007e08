"""Commands that talk to a running server through the SDK: projects, users, items, work.

`register(app)` adds them to the root `labelvault` app. Every command reads LABELVAULT_URL
and LABELVAULT_TOKEN (or --url/--token) and prints "error:"/"hint:" instead of tracebacks.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from labelvault.domain.roles import ProjectRole
from labelvault.errors import InvalidInput
from labelvault.sdk import Client

from . import _remote
from ._output import (
    console,
    echo_err,
    error_lines,
    failing_nicely,
    human_bytes,
    parse_json_option,
    print_error,
    print_json,
    render_report,
    transfer_progress,
)
from ._remote import DEFAULT_URL, JsonOption, TokenOption, UrlOption


class OrgRoleChoice(StrEnum):
    member = "member"
    admin = "admin"


class OnError(StrEnum):
    abort = "abort"
    skip = "skip"


class OnDuplicate(StrEnum):
    skip = "skip"
    update = "update"


ProjectArg = Annotated[str, typer.Argument(help="Project id.", show_default=False)]


def register(app: typer.Typer) -> None:
    """Add the SDK-backed commands to the root app."""
    projects = typer.Typer(help="Create, inspect and delete projects; manage their members.")
    projects.command("create")(create_project)
    projects.command("list")(list_projects)
    projects.command("show")(show_project)
    projects.command("delete")(delete_project)
    projects.command("add-member")(add_member)
    app.add_typer(projects, name="projects")

    users = typer.Typer(help="Invite users to the organisation.")
    users.command("invite")(invite_user)
    app.add_typer(users, name="users")

    app.command("import")(import_items)
    app.command("export")(export_items)
    app.command("quality")(show_quality)
    app.command("leaderboard")(show_leaderboard)
    app.command("next")(next_task)
    app.command("submit")(submit_answer)


# ---- projects ----------------------------------------------------------------------------


def create_project(
    name: Annotated[str, typer.Option("--name", help="Project name.", show_default=False)],
    schema: Annotated[
        Path | None,
        typer.Option("--schema", help="Label schema as a JSON file.", show_default=False),
    ] = None,
    schema_json: Annotated[
        str | None,
        typer.Option("--schema-json", help="Label schema as inline JSON.", show_default=False),
    ] = None,
    overlap: Annotated[
        int, typer.Option("--overlap", min=1, help="Different annotators per item.")
    ] = 1,
    lease_seconds: Annotated[
        int | None,
        typer.Option("--lease-seconds", min=1, help="How long an annotator holds an item."),
    ] = None,
    description: Annotated[str | None, typer.Option("--description")] = None,
    as_json: JsonOption = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Create a project with a label schema."""
    with failing_nicely():
        label_schema = _read_schema(schema, schema_json)
        with _remote.connect(url, token) as client:
            project = client.create_project(
                name,
                label_schema,
                overlap=overlap,
                lease_seconds=lease_seconds,
                description=description,
            )
        if as_json:
            print_json(project)
        else:
            typer.echo(
                f"created project {project.get('id')} {project.get('name', name)!r} "
                f"(overlap {project.get('overlap', overlap)})"
            )


def list_projects(
    as_json: JsonOption = False, url: UrlOption = DEFAULT_URL, token: TokenOption = None
) -> None:
    """List the projects you have a role in."""
    with failing_nicely(), _remote.connect(url, token) as client:
        projects = client.list_projects()
        if as_json:
            print_json(projects)
            return
        if not projects:
            typer.echo("no projects yet; create one with `labelvault projects create`")
            return
        table = Table("id", "name", "overlap", "items", "annotations", "completed")
        for project in projects:
            counts = project.get("counts") or {}
            table.add_row(
                str(project.get("id")),
                str(project.get("name")),
                str(project.get("overlap", "-")),
                str(counts.get("items", "-")),
                str(counts.get("annotations", "-")),
                str(counts.get("completed_items", "-")),
            )
        console().print(table)


def show_project(
    project_id: ProjectArg,
    as_json: JsonOption = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Show a project: settings, counts and label schema."""
    with failing_nicely(), _remote.connect(url, token) as client:
        project = client.get_project(project_id)
        if as_json:
            print_json(project)
            return
        out = console()
        for key, value in project.items():
            if key == "schema":
                continue
            if isinstance(value, dict):
                value = ", ".join(f"{k} {v}" for k, v in value.items())
            out.print(f"[bold]{key}[/]: {value}")
        out.print("[bold]schema[/]:")
        out.print_json(data=project.get("schema"))


def delete_project(
    project_id: ProjectArg,
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm: the project's data becomes unreadable.")
    ] = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Delete a project and destroy its data key (crypto-shred); this cannot be undone."""
    with failing_nicely():
        if not yes:
            raise InvalidInput(
                f"refusing to delete project {project_id} without --yes",
                hint="deleting destroys the project's data key, so its items and answers are "
                "unreadable for good (even in backups); export first, then pass --yes",
            )
        with _remote.connect(url, token) as client:
            client.delete_project(project_id)
        typer.echo(f"deleted project {project_id}; its data key is destroyed")


def add_member(
    project_id: ProjectArg,
    user_id: Annotated[str, typer.Argument(help="User id.", show_default=False)],
    role: Annotated[ProjectRole, typer.Argument(help="Project role.", show_default=False)],
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Give a user a role in a project (or change it)."""
    with failing_nicely(), _remote.connect(url, token) as client:
        member = client.set_member(project_id, user_id, role.value)
        who = member.get("email") or user_id
        typer.echo(f"{who} is now {member.get('role', role.value)} of project {project_id}")


# ---- users -------------------------------------------------------------------------------


def invite_user(
    email: Annotated[str, typer.Argument(help="Email of the new user.", show_default=False)],
    role: Annotated[OrgRoleChoice, typer.Option("--role", help="Org role.")] = OrgRoleChoice.member,
    password: Annotated[
        str | None,
        typer.Option("--password", help="Password for the web UI (optional).", hidden=True),
    ] = None,
    as_json: JsonOption = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Invite a user to your organisation; prints their API token once."""
    with failing_nicely(), _remote.connect(url, token) as client:
        user = client.invite_user(email, org_role=role.value, password=password)
        if as_json:
            print_json(user)
            return
        typer.echo(f"invited {user.get('email', email)} as {user.get('org_role', role)}")
        typer.echo(f"user id: {user.get('user_id')}")
        if user.get("token"):
            typer.echo(f"token:   {user['token']}")
            echo_err("the token is shown only once: hand it to the user over a private channel")


# ---- items -------------------------------------------------------------------------------


def import_items(
    project_id: ProjectArg,
    file: Annotated[Path, typer.Argument(help="JSONL, JSON, CSV or Parquet file.")],
    format: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="jsonl, json, csv or parquet (default: from the extension).",
            show_default=False,
        ),
    ] = None,
    on_error: Annotated[
        OnError,
        typer.Option("--on-error", help="abort: a bad row stores nothing; skip: keep good rows."),
    ] = OnError.abort,
    on_duplicate: Annotated[
        OnDuplicate,
        typer.Option("--on-duplicate", help="For an id already stored: skip it or update it."),
    ] = OnDuplicate.skip,
    as_json: JsonOption = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Import items from a file, streamed (a progress bar shows on a terminal).

    Exits 1 when the import was aborted or some rows failed.
    """
    with failing_nicely(), _remote.connect(url, token) as client:
        size = file.stat().st_size
        with transfer_progress(
            f"importing {file.name}",
            size,
            enabled=not as_json,
            when_sent=f"sent {file.name}; the server is storing the items",
        ) as progress:
            result = _import_or_report_abort(
                client, project_id, file, format, on_error, on_duplicate, progress, as_json
            )
        if as_json:
            print_json(result)
        else:
            _print_import_summary(file, project_id, result)
        failed = int(result.get("failed") or 0)
        if failed:
            echo_err(f"error: {failed} row(s) failed and were not imported")
            echo_err(
                "hint: fix the listed lines and import the file again; "
                "rows whose id is already stored are skipped"
            )
            raise typer.Exit(1)


def _import_or_report_abort(
    client: Client,
    project_id: str,
    file: Path,
    format: str | None,
    on_error: OnError,
    on_duplicate: OnDuplicate,
    progress: Callable[[int], None] | None,
    as_json: bool,
) -> dict[str, Any]:
    """The import result; an abort (422 listing bad lines) is reported and exits 1."""
    try:
        return client.import_items(
            project_id,
            file,
            format=format,
            on_error=on_error.value,
            on_duplicate=on_duplicate.value,
            progress=progress,
        )
    except InvalidInput as error:
        if not any("line" in entry for entry in error.errors):
            raise
        if as_json:
            print_json({"aborted": True, "detail": error.detail, "errors": error.errors})
        print_error(error)
        echo_err("nothing was imported (--on-error abort); use --on-error skip to keep good rows")
        raise typer.Exit(1) from None


def _print_import_summary(file: Path, project_id: str, result: dict[str, Any]) -> None:
    typer.echo(
        f"imported {file.name} into project {project_id}: "
        f"{result.get('created', 0)} created, {result.get('updated', 0)} updated, "
        f"{result.get('skipped_duplicates', 0)} skipped (duplicates), "
        f"{result.get('failed', 0)} failed"
    )
    for line in error_lines(result.get("errors") or []):
        typer.echo(f"  {line}")


def export_items(
    project_id: ProjectArg,
    format: Annotated[
        str, typer.Option("--format", help="jsonl, csv or parquet.", show_default=False)
    ],
    out: Annotated[
        Path, typer.Option("--out", help="File to write (replaced only when complete).")
    ],
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Export items with all their annotations, streamed to a file."""
    with failing_nicely(), _remote.connect(url, token) as client:
        with transfer_progress(f"exporting {project_id}", None) as progress:
            path = client.export(project_id, format, out, progress=progress)
        size = path.stat().st_size
        typer.echo(f"exported project {project_id} as {format} to {path} ({human_bytes(size)})")


# ---- quality -----------------------------------------------------------------------------


def show_quality(
    project_id: ProjectArg,
    as_json: JsonOption = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Agreement per field, annotator scores and consensus for a project."""
    with failing_nicely(), _remote.connect(url, token) as client:
        report = _wait_for_report(client, project_id)
        if as_json:
            print_json(report)
        else:
            render_report(report, console())


def _wait_for_report(client: Client, project_id: int, poll_s: float = 0.5) -> dict[str, Any]:
    """A large project's report is computed in the background: poll, with a progress bar
    on a terminal, until it is ready."""
    import time

    from rich.progress import Progress

    report = client.quality(project_id)
    if report.get("status") != "running":
        return report
    with Progress(console=console(), transient=True, disable=not console().is_terminal) as bar:
        task = bar.add_task("computing quality report", total=1.0)
        while report.get("status") == "running":
            bar.update(
                task,
                completed=report.get("progress", 0.0),
                description=str(report.get("stage", "computing")),
            )
            time.sleep(poll_s)
            report = client.quality(project_id)
    return report


def show_leaderboard(
    project_id: ProjectArg,
    as_json: JsonOption = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Ranking of the compared candidates, with confidence intervals."""
    with failing_nicely(), _remote.connect(url, token) as client:
        board = client.leaderboard(project_id)
        if as_json:
            print_json(board)
        else:
            render_report(board, console())


# ---- work --------------------------------------------------------------------------------


def next_task(
    project_id: ProjectArg,
    as_json: JsonOption = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Take the next item to answer (prints `null` with --json when there is no work)."""
    with failing_nicely(), _remote.connect(url, token) as client:
        task = client.next_task(project_id)
        if as_json:
            print_json(
                None
                if task is None
                else {
                    "assignment_id": task.assignment_id,
                    "item": task.item,
                    "lease_expires_at": task.lease_expires_at.isoformat(),
                }
            )
            return
        if task is None:
            typer.echo(f"no work for you in project {project_id} right now")
            return
        typer.echo(f"assignment {task.assignment_id} (lease until {task.lease_expires_at})")
        typer.echo(json.dumps(task.item, indent=2, ensure_ascii=False))
        typer.echo(f"answer with: labelvault submit {task.assignment_id} --values-json '{{...}}'")


def submit_answer(
    assignment_id: Annotated[str, typer.Argument(help="Assignment id (from `labelvault next`).")],
    values_json: Annotated[
        str,
        typer.Option("--values-json", help='The answer as JSON, e.g. \'{"sentiment": "pos"}\'.'),
    ],
    idempotency_key: Annotated[
        str | None,
        typer.Option(
            "--idempotency-key",
            help="Reuse one key when re-running the same submit from a script.",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOption = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Submit an answer for an assignment."""
    with failing_nicely():
        values = parse_json_option(values_json, "--values-json")
        if not isinstance(values, dict):
            raise InvalidInput(
                "--values-json must be a JSON object",
                hint="""e.g. --values-json '{"sentiment": "pos"}'""",
            )
        with _remote.connect(url, token) as client:
            result = client.submit(assignment_id, values, idempotency_key=idempotency_key)
        if as_json:
            print_json(result)
        else:
            typer.echo(f"submitted assignment {assignment_id}: {result.get('status', 'ok')}")


# ---- helpers -----------------------------------------------------------------------------


def _read_schema(path: Path | None, inline: str | None) -> dict[str, Any]:
    if (path is None) == (inline is None):
        raise InvalidInput(
            "give the label schema with exactly one of --schema FILE.json or --schema-json",
            hint="""e.g. --schema-json '{"fields": [{"name": "sentiment", """
            """"type": "single_choice", "options": ["pos", "neg"]}]}'""",
        )
    if path is not None:
        schema = parse_json_option(path.read_text(encoding="utf-8"), f"--schema {path}")
    else:
        schema = parse_json_option(inline or "", "--schema-json")
    if not isinstance(schema, dict):
        raise InvalidInput(
            "the label schema must be a JSON object", hint="see docs/api.md for the schema format"
        )
    return schema
