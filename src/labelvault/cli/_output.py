"""What CLI commands print: JSON, tables, progress bars, and errors without tracebacks."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from labelvault.errors import BadRequest, InvalidInput, LabelvaultError

USAGE_EXIT = 2
FAILURE_EXIT = 1
MAX_LISTED_ERRORS = 10
MAX_TABLE_ROWS = 50
MAX_SECTION_DEPTH = 3
PER_ITEM_KEYS = frozenset({"items", "consensus"})


def stdout_is_tty() -> bool:
    """Whether a person is watching: decides progress bars versus plain summaries."""
    return sys.stdout.isatty()


def console() -> Console:
    """A console on the current stdout (looked up per call, so redirection is honoured)."""
    return Console(highlight=False)


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def echo_err(message: str) -> None:
    typer.echo(message, err=True)


# ---- errors ------------------------------------------------------------------------------


def exit_code_for(error: LabelvaultError) -> int:
    """2 when the user's input was wrong (fix the command), 1 for everything else."""
    return USAGE_EXIT if isinstance(error, InvalidInput | BadRequest) else FAILURE_EXIT


def print_error(error: LabelvaultError) -> None:
    echo_err(f"error: {error.detail}")
    for line in error_lines(error.errors):
        echo_err(f"  {line}")
    if error.hint:
        echo_err(f"hint: {error.hint}")


def error_lines(errors: list[dict[str, Any]], limit: int = MAX_LISTED_ERRORS) -> list[str]:
    """One readable line per listed problem ("line 7: ...", "sentiment: ..."), capped."""
    lines = []
    for entry in errors[:limit]:
        message = entry.get("message") or entry.get("detail") or json.dumps(entry)
        if "line" in entry:
            prefix = f"line {entry['line']}:"
            text = message if str(message).startswith(prefix) else f"{prefix} {message}"
        elif "field" in entry:
            text = f"{entry['field']}: {message}"
        else:
            text = str(message)
        if entry.get("allowed"):
            text += f" (allowed: {entry['allowed']})"
        lines.append(text)
    if len(errors) > limit:
        lines.append(f"... and {len(errors) - limit} more")
    return lines


@contextmanager
def failing_nicely() -> Iterator[None]:
    """Turn every error into "error:"/"hint:" on stderr and an exit code, never a traceback."""
    try:
        yield
    except (typer.Exit, typer.Abort):
        raise
    except LabelvaultError as error:
        print_error(error)
        raise typer.Exit(exit_code_for(error)) from None
    except OSError as error:
        where = f" {error.filename}" if error.filename else ""
        echo_err(f"error: cannot use{where}: {error.strerror or error}")
        echo_err("hint: check that the path exists and is readable (or its folder writable)")
        raise typer.Exit(USAGE_EXIT) from None
    except KeyboardInterrupt:
        echo_err("error: interrupted")
        raise typer.Exit(130) from None
    except Exception as error:
        if os.environ.get("LABELVAULT_DEBUG"):
            raise
        echo_err(f"error: unexpected {type(error).__name__}: {error}")
        echo_err("hint: this is a bug; run again with LABELVAULT_DEBUG=1 for the traceback")
        raise typer.Exit(FAILURE_EXIT) from None


def parse_json_option(text: str, option: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"{option} is not valid JSON: {exc.msg} at column {exc.colno}",
            hint=f"""quote the whole value for the shell, e.g. {option} '{{"field": "value"}}'""",
        ) from None


# ---- progress ----------------------------------------------------------------------------


@contextmanager
def transfer_progress(
    description: str,
    total: int | None,
    *,
    enabled: bool = True,
    when_sent: str | None = None,
) -> Iterator[Callable[[int], None] | None]:
    """A byte progress bar with transfer speed on stderr when stdout is a terminal.

    Yields the callback to feed with bytes done so far, or None when no bar is shown.
    `when_sent` replaces the description once `total` bytes are done (the server's turn).
    """
    if not (enabled and stdout_is_tty()):
        yield None
        return
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )
    with bar:
        task = bar.add_task(description, total=total)

        def advance(done: int) -> None:
            if when_sent and total is not None and done >= total:
                bar.update(task, completed=done, description=when_sent)
            else:
                bar.update(task, completed=done)

        yield advance


def human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


# ---- reports (quality, leaderboard) ------------------------------------------------------


def render_report(data: Any, out: Console, path: str = "", depth: int = 0) -> None:
    """Tables for what is tabular (per-annotator rows, per-field metrics); JSON for the rest.

    Nested objects (e.g. one section per label field) become titled sections, a few levels deep.
    """
    if not isinstance(data, Mapping) or not data:
        out.print_json(data=data)
        return
    if path:
        out.print(f"\n[bold underline]{path}[/]")
    for key, value in data.items():
        if _is_scalar(value):
            out.print(f"[bold]{key}[/]: {_cell(value)}")
    nested = [(key, value) for key, value in data.items() if not _is_scalar(value)]
    # per-item rows (consensus) can be long: summaries such as agreement come first
    for key, value in sorted(nested, key=lambda pair: pair[0] in PER_ITEM_KEYS):
        title = f"{path} › {key}" if path else str(key)
        table = _table(title, value)
        if table is not None:
            out.print(table)
        elif not value:
            out.print(f"[bold]{key}[/]: none")
        elif isinstance(value, Mapping) and depth < MAX_SECTION_DEPTH:
            render_report(
                value, out, "" if depth == 0 and _all_sections(value) else title, depth + 1
            )
        else:
            out.print(f"[bold]{title}[/]")
            out.print_json(data=value)


def _all_sections(value: Mapping[str, Any]) -> bool:
    """A grouping level such as {"fields": {...}} whose own name adds nothing to titles."""
    return all(isinstance(v, Mapping) for v in value.values())


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _is_flat(value: Any) -> bool:
    """A dict whose values fit in table cells (scalars or short lists of scalars)."""
    return isinstance(value, Mapping) and all(
        _is_scalar(v) or (isinstance(v, list) and len(v) <= 4 and all(map(_is_scalar, v)))
        for v in value.values()
    )


def _table(title: str, value: Any) -> Table | None:
    if isinstance(value, list) and value and all(_is_flat(row) for row in value):
        rows: list[Mapping[str, Any]] = value
        columns = list(dict.fromkeys(key for row in rows for key in row))
        table = Table(*columns, title=title, title_justify="left")
        for row in rows[:MAX_TABLE_ROWS]:
            table.add_row(*(_cell(row.get(column)) for column in columns))
    elif isinstance(value, Mapping) and value and all(_is_flat(v) for v in value.values()):
        columns = list(dict.fromkeys(key for row in value.values() for key in row))
        table = Table(_singular(title), *columns, title=title, title_justify="left")
        for name, row in list(value.items())[:MAX_TABLE_ROWS]:
            table.add_row(str(name), *(_cell(row.get(column)) for column in columns))
        rows = list(value.values())
    elif _is_flat(value) and value:
        table = Table("name", "value", title=title, title_justify="left")
        for name, cell in list(value.items())[:MAX_TABLE_ROWS]:
            table.add_row(str(name), _cell(cell))
        rows = list(value)
    else:
        return None
    if len(rows) > MAX_TABLE_ROWS:
        table.caption = f"first {MAX_TABLE_ROWS} of {len(rows)} rows; use --json to see all"
    return table


def _singular(word: str) -> str:
    return word[:-1] if word.endswith("s") and len(word) > 3 else word


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, list):
        return "[" + ", ".join(_cell(v) for v in value) + "]"
    return str(value)
