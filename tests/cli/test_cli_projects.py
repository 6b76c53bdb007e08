"""The SDK-backed CLI commands against a fake server (httpx.MockTransport)."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
import typer
from typer.testing import CliRunner

from labelvault.cli import _output, _remote
from labelvault.cli.projects import register
from labelvault.sdk import Client

ENV = {"LABELVAULT_URL": "http://lv.test:8080", "LABELVAULT_TOKEN": "tok"}
PROJECT = {
    "id": "p1",
    "name": "reviews",
    "description": None,
    "schema": {"fields": [{"name": "sentiment", "type": "single_choice"}]},
    "schema_version": 1,
    "overlap": 2,
    "lease_seconds": 600,
    "created_at": "2030-01-01T00:00:00Z",
    "counts": {"items": 10, "annotations": 4, "completed_items": 1},
}


def problem(status: int, slug: str, detail: str, hint: str | None = None, **extra):
    body = {"type": f"https://labelvault.dev/problems/{slug}", "status": status, "detail": detail}
    if hint:
        body["hint"] = hint
    body.update(extra)
    return httpx.Response(
        status, content=json.dumps(body), headers={"Content-Type": "application/problem+json"}
    )


class FakeServer:
    """Route table for the MockTransport; remembers requests and the client's URL/token."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Callable[[httpx.Request], httpx.Response]] = {}
        self.requests: list[httpx.Request] = []
        self.connections: list[tuple[str, str]] = []

    def on(self, method: str, path: str, response) -> None:
        self.routes[(method, "/api/v1" + path)] = (
            response if callable(response) else lambda request: response
        )

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        route = self.routes.get((request.method, request.url.path))
        if route is None:
            return problem(404, "not-found", f"no route {request.method} {request.url.path}")
        return route(request)


@pytest.fixture
def server(monkeypatch) -> FakeServer:
    fake = FakeServer()

    def factory(url: str, token: str) -> Client:
        fake.connections.append((url, token))
        return Client(url, token, transport=httpx.MockTransport(fake), backoff_base=0)

    monkeypatch.setattr(_remote, "client_factory", factory)
    return fake


@pytest.fixture
def cli():
    app = typer.Typer()
    register(app)
    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None):
        return runner.invoke(app, list(args), env=ENV if env is None else env)

    return invoke


# ---- connection settings -----------------------------------------------------------------


def test_url_and_token_come_from_the_environment(server, cli):
    server.on("GET", "/projects", httpx.Response(200, json=[]))
    result = cli("projects", "list")
    assert result.exit_code == 0, result.output
    assert server.connections == [("http://lv.test:8080", "tok")]
    assert "no projects yet" in result.stdout


def test_options_override_the_environment(server, cli):
    server.on("GET", "/projects", httpx.Response(200, json=[]))
    result = cli("projects", "list", "--url", "http://other:1", "--token", "t2")
    assert result.exit_code == 0, result.output
    assert server.connections == [("http://other:1", "t2")]


def test_url_defaults_to_localhost(server, cli):
    server.on("GET", "/projects", httpx.Response(200, json=[]))
    cli("projects", "list", env={"LABELVAULT_TOKEN": "tok", "LABELVAULT_URL": ""})
    assert server.connections[0][0] == "http://127.0.0.1:8080"


def test_missing_token_is_a_usage_error_with_a_hint(server, cli):
    result = cli("projects", "list", env={"LABELVAULT_TOKEN": ""})
    assert result.exit_code == 2
    assert "error: no API token" in result.stderr
    assert "hint: export LABELVAULT_TOKEN" in result.stderr
    assert server.requests == []


def test_server_errors_print_detail_and_hint_and_exit_1(server, cli):
    server.on("GET", "/projects/p9", problem(404, "not-found", "project p9 not found", "check"))
    result = cli("projects", "show", "p9")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["error: project p9 not found", "hint: check"]
    assert "Traceback" not in result.output


def test_unreachable_server_says_to_start_it(monkeypatch, cli):
    def refuse(request):
        raise httpx.ConnectError("Connection refused", request=request)

    monkeypatch.setattr(
        _remote,
        "client_factory",
        lambda url, token: Client(url, token, transport=httpx.MockTransport(refuse), retries=0),
    )
    result = cli("quality", "p1")
    assert result.exit_code == 1
    assert "error: cannot connect to the labelvault server at http://lv.test:8080" in result.stderr
    assert "labelvault serve" in result.stderr


# ---- projects ----------------------------------------------------------------------------


def test_create_project_with_inline_schema(server, cli):
    server.on("POST", "/projects", httpx.Response(201, json=PROJECT))
    result = cli(
        "projects",
        "create",
        "--name",
        "reviews",
        "--schema-json",
        '{"fields": []}',
        "--overlap",
        "2",
        "--lease-seconds",
        "300",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(server.requests[0].content) == {
        "name": "reviews",
        "schema": {"fields": []},
        "overlap": 2,
        "lease_seconds": 300,
    }
    assert "created project p1 'reviews'" in result.stdout


def test_create_project_with_schema_file_and_json_output(server, cli, tmp_path):
    schema_file = tmp_path / "schema.json"
    schema_file.write_text('{"fields": [{"name": "ok", "type": "single_choice"}]}')
    server.on("POST", "/projects", httpx.Response(201, json=PROJECT))
    result = cli("projects", "create", "--name", "r", "--schema", str(schema_file), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == PROJECT
    assert json.loads(server.requests[0].content)["schema"]["fields"][0]["name"] == "ok"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "exactly one of --schema"),
        (["--schema-json", "{", "--schema", "x.json"], "exactly one of --schema"),
        (["--schema-json", "{fields: 1}"], "--schema-json is not valid JSON"),
        (["--schema-json", "[1, 2]"], "must be a JSON object"),
        (["--schema", "/no/such/schema.json"], "/no/such/schema.json"),
    ],
)
def test_create_project_input_errors_exit_2_without_calling_the_server(server, cli, args, message):
    result = cli("projects", "create", "--name", "r", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "hint:" in result.stderr
    assert server.requests == []


def test_schema_rejected_by_the_server_lists_the_fields_and_exits_2(server, cli):
    server.on(
        "POST",
        "/projects",
        problem(
            422,
            "invalid-input",
            "schema is invalid: 1 problem",
            "see docs/api.md",
            errors=[{"field": "fields[0].type", "message": "unknown type 'choice'"}],
        ),
    )
    result = cli("projects", "create", "--name", "r", "--schema-json", "{}")
    assert result.exit_code == 2
    assert "error: schema is invalid: 1 problem" in result.stderr
    assert "fields[0].type: unknown type 'choice'" in result.stderr


def test_list_projects_as_table_and_json(server, cli):
    server.on("GET", "/projects", httpx.Response(200, json=[PROJECT]))
    table = cli("projects", "list")
    assert table.exit_code == 0, table.output
    assert "reviews" in table.stdout and "p1" in table.stdout
    assert json.loads(cli("projects", "list", "--json").stdout) == [PROJECT]


def test_show_project(server, cli):
    server.on("GET", "/projects/p1", httpx.Response(200, json=PROJECT))
    result = cli("projects", "show", "p1")
    assert result.exit_code == 0, result.output
    assert "name: reviews" in result.stdout
    assert "sentiment" in result.stdout
    assert json.loads(cli("projects", "show", "p1", "--json").stdout) == PROJECT


def test_delete_requires_yes(server, cli):
    server.on("DELETE", "/projects/p1", httpx.Response(204))
    refused = cli("projects", "delete", "p1")
    assert refused.exit_code == 2
    assert "--yes" in refused.stderr
    assert server.requests == []

    done = cli("projects", "delete", "p1", "--yes")
    assert done.exit_code == 0, done.output
    assert [(r.method, r.url.path) for r in server.requests] == [("DELETE", "/api/v1/projects/p1")]


def test_add_member(server, cli):
    member = {"user_id": "u2", "email": "ann@example.com", "role": "annotator"}
    server.on("PUT", "/projects/p1/members/u2", httpx.Response(200, json=member))
    result = cli("projects", "add-member", "p1", "u2", "annotator")
    assert result.exit_code == 0, result.output
    assert json.loads(server.requests[0].content) == {"role": "annotator"}
    assert "ann@example.com is now annotator of project p1" in result.stdout


def test_add_member_rejects_an_unknown_role(server, cli):
    result = cli("projects", "add-member", "p1", "u2", "boss")
    assert result.exit_code == 2
    assert server.requests == []


def test_invite_user_prints_the_token(server, cli):
    user = {"user_id": "u5", "email": "new@example.com", "org_role": "admin", "token": "secret"}
    server.on("POST", "/users", httpx.Response(201, json=user))
    result = cli("users", "invite", "new@example.com", "--role", "admin")
    assert result.exit_code == 0, result.output
    assert json.loads(server.requests[0].content) == {
        "email": "new@example.com",
        "org_role": "admin",
    }
    assert "secret" in result.stdout
    assert "shown only once" in result.stderr
    assert json.loads(cli("users", "invite", "new@example.com", "--json").stdout) == user


# ---- quality, leaderboard ----------------------------------------------------------------


QUALITY = {
    "method": "dawid-skene",
    "annotators": [
        {"annotator": "ann@example.com", "accuracy": 0.91234, "labels": 120, "spammer": False},
        {"annotator": "bob@example.com", "accuracy": 0.5, "labels": 80, "spammer": True},
    ],
    "fields": {"sentiment": {"krippendorff_alpha": 0.71, "percent_agreement": 0.8}},
}


def test_quality_renders_tables(server, cli):
    server.on("GET", "/projects/p1/quality", httpx.Response(200, json=QUALITY))
    result = cli("quality", "p1")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "method: dawid-skene" in out
    assert "ann@example.com" in out and "0.912" in out
    assert "sentiment" in out and "0.710" in out
    assert json.loads(cli("quality", "p1", "--json").stdout) == QUALITY


def test_quality_sections_per_field_as_the_server_sends_them(server, cli):
    report = {
        "project_id": 1,
        "answers": 12,
        "fields": {
            "sentiment": {
                "method": "dawid_skene",
                "items": [{"item_id": 1, "label": "pos", "confidence": 0.97, "labels": 3}],
                "annotators": [
                    {"annotator": "ann@example.com", "labels": 6, "estimated_accuracy": 0.88}
                ],
                "agreement": {"krippendorff_alpha": 0.64, "percent_agreement": 0.75},
            }
        },
    }
    server.on("GET", "/projects/p1/quality", httpx.Response(200, json=report))
    result = cli("quality", "p1")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "method: dawid_skene" in out
    assert "sentiment › annotators" in out and "0.880" in out
    assert "sentiment › agreement" in out and "krippendorff_alpha" in out and "0.640" in out
    # short tables first: annotator scores and agreement before the per-item consensus
    assert out.index("sentiment › agreement") < out.index("sentiment › items")


def test_quality_without_tabular_parts_falls_back_to_json(server, cli):
    odd = {"confusion": [[0.9, 0.1], [0.2, 0.8]]}
    server.on("GET", "/projects/p1/quality", httpx.Response(200, json=odd))
    result = cli("quality", "p1")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout[result.stdout.index("[") :]) == odd["confusion"]


def test_long_tables_are_cut_with_a_pointer_to_json(server, cli):
    rows = [{"item": f"i{n}", "label": "pos"} for n in range(120)]
    server.on("GET", "/projects/p1/quality", httpx.Response(200, json={"consensus": rows}))
    result = cli("quality", "p1")
    assert "i49" in result.stdout and "i50" not in result.stdout
    assert "use --json" in result.stdout


def test_leaderboard(server, cli):
    board = {"entries": [{"candidate": "model-a", "score": 1.2, "ci": [0.9, 1.5]}]}
    server.on("GET", "/projects/p1/leaderboard", httpx.Response(200, json=board))
    result = cli("leaderboard", "p1")
    assert result.exit_code == 0, result.output
    assert "model-a" in result.stdout and "[0.900, 1.500]" in result.stdout


# ---- next / submit -----------------------------------------------------------------------


TASK = {
    "assignment_id": "a1",
    "item": {"id": "i1", "data": {"text": "great phone"}},
    "lease_expires_at": "2030-01-01T00:10:00+00:00",
}


def test_next_prints_the_task(server, cli):
    server.on("GET", "/projects/p1/next", httpx.Response(200, json=TASK))
    result = cli("next", "p1")
    assert result.exit_code == 0, result.output
    assert "assignment a1" in result.stdout
    assert "great phone" in result.stdout
    assert json.loads(cli("next", "p1", "--json").stdout) == TASK


def test_next_without_work(server, cli):
    server.on("GET", "/projects/p1/next", httpx.Response(204))
    assert "no work" in cli("next", "p1").stdout
    result = cli("next", "p1", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) is None


def test_submit_sends_the_values(server, cli):
    done = {"assignment_id": "a1", "item_id": "i1", "status": "submitted"}
    server.on("POST", "/assignments/a1/submit", httpx.Response(200, json=done))
    result = cli("submit", "a1", "--values-json", '{"sentiment": "pos"}', "--idempotency-key", "k1")
    assert result.exit_code == 0, result.output
    assert json.loads(server.requests[0].content) == {"values": {"sentiment": "pos"}}
    assert server.requests[0].headers["Idempotency-Key"] == "k1"
    assert "submitted" in result.stdout


def test_submit_with_bad_json_is_a_usage_error(server, cli):
    result = cli("submit", "a1", "--values-json", "{sentiment: pos}")
    assert result.exit_code == 2
    assert "--values-json is not valid JSON" in result.stderr
    assert server.requests == []


def test_rejected_answer_names_the_field(server, cli):
    server.on(
        "POST",
        "/assignments/a1/submit",
        problem(
            422,
            "invalid-input",
            "answer does not match the project schema: 1 problem",
            errors=[
                {"field": "sentiment", "message": "'maybe' is not an option", "allowed": "pos, neg"}
            ],
        ),
    )
    result = cli("submit", "a1", "--values-json", '{"sentiment": "maybe"}')
    assert result.exit_code == 2
    assert "sentiment: 'maybe' is not an option (allowed: pos, neg)" in result.stderr


def test_unexpected_failures_print_no_traceback(server, cli, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(_output, "render_report", boom)
    monkeypatch.setattr("labelvault.cli.projects.render_report", boom)
    server.on("GET", "/projects/p1/quality", httpx.Response(200, json=QUALITY))
    result = cli("quality", "p1")
    assert result.exit_code == 1
    assert "error: unexpected RuntimeError: disk on fire" in result.stderr
    assert "Traceback" not in result.output


# ---- import / export ---------------------------------------------------------------------


IMPORTED = {"created": 2, "updated": 0, "skipped_duplicates": 1, "failed": 0, "errors": []}


@pytest.fixture
def items_file(tmp_path):
    path = tmp_path / "items.jsonl"
    path.write_text('{"id": "r1", "text": "a"}\n{"id": "r2", "text": "b"}\n{"id": "r3"}\n')
    return path


def test_import_prints_a_plain_summary_when_not_on_a_terminal(server, cli, items_file):
    server.on("POST", "/projects/p1/items", httpx.Response(200, json=IMPORTED))
    result = cli("import", "p1", str(items_file))
    assert result.exit_code == 0, result.output
    request = server.requests[0]
    assert request.content == items_file.read_bytes()
    assert request.headers["Content-Type"] == "application/x-ndjson"
    assert dict(request.url.params) == {"on_error": "abort", "on_duplicate": "skip"}
    assert result.stdout.strip() == (
        "imported items.jsonl into project p1: "
        "2 created, 0 updated, 1 skipped (duplicates), 0 failed"
    )


def test_import_passes_format_and_policies(server, cli, tmp_path):
    data = tmp_path / "dump.txt"
    data.write_text("id,text\n1,a\n")
    server.on("POST", "/projects/p1/items", httpx.Response(200, json=IMPORTED))
    result = cli(
        "import",
        "p1",
        str(data),
        "--format",
        "csv",
        "--on-error",
        "skip",
        "--on-duplicate",
        "update",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert server.requests[0].headers["Content-Type"] == "text/csv"
    assert dict(server.requests[0].url.params) == {"on_error": "skip", "on_duplicate": "update"}
    assert json.loads(result.stdout) == IMPORTED


def test_import_with_failed_rows_lists_them_and_exits_1(server, cli, items_file):
    partial = {
        "created": 2,
        "updated": 0,
        "skipped_duplicates": 0,
        "failed": 1,
        "errors": [{"line": 3, "message": "missing field 'text'"}],
    }
    server.on("POST", "/projects/p1/items", httpx.Response(200, json=partial))
    result = cli("import", "p1", str(items_file), "--on-error", "skip")
    assert result.exit_code == 1
    assert "2 created" in result.stdout and "1 failed" in result.stdout
    assert "line 3: missing field 'text'" in result.stdout
    assert "error: 1 row(s) failed" in result.stderr


def test_aborted_import_shows_the_bad_lines_and_exits_1(server, cli, items_file):
    bad = [{"line": 2, "message": "not valid JSON"}, {"line": 9, "message": "item too large"}]
    server.on(
        "POST",
        "/projects/p1/items",
        problem(422, "invalid-input", "2 bad rows; nothing was imported", errors=bad),
    )
    result = cli("import", "p1", str(items_file))
    assert result.exit_code == 1
    assert "error: 2 bad rows; nothing was imported" in result.stderr
    assert "line 2: not valid JSON" in result.stderr
    assert "line 9: item too large" in result.stderr
    assert "--on-error skip" in result.stderr

    as_json = cli("import", "p1", str(items_file), "--json")
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout) == {
        "aborted": True,
        "detail": "2 bad rows; nothing was imported",
        "errors": bad,
    }


def test_import_of_an_unknown_file_type_is_a_usage_error(server, cli, tmp_path):
    data = tmp_path / "notes.txt"
    data.write_text("hello")
    result = cli("import", "p1", str(data))
    assert result.exit_code == 2
    assert "--format" in result.stderr or "format=" in result.stderr
    assert server.requests == []


def test_import_shows_a_progress_bar_on_a_terminal(server, cli, items_file, monkeypatch):
    updates: list[tuple] = []
    real = _output.Progress.update

    def spy(self, task_id, **fields):
        updates.append(fields)
        return real(self, task_id, **fields)

    monkeypatch.setattr(_output, "stdout_is_tty", lambda: True)
    monkeypatch.setattr(_output.Progress, "update", spy)
    server.on("POST", "/projects/p1/items", httpx.Response(200, json=IMPORTED))

    result = cli("import", "p1", str(items_file))

    assert result.exit_code == 0, result.output
    assert updates[-1]["completed"] == items_file.stat().st_size
    assert "server is storing" in updates[-1]["description"]
    assert "server is storing" in result.stderr
    assert "2 created" in result.stdout


def test_export_writes_the_file(server, cli, tmp_path):
    body = b'{"id": "i1", "annotations": []}\n'
    server.on("GET", "/projects/p1/export", httpx.Response(200, content=body))
    out = tmp_path / "out.jsonl"
    result = cli("export", "p1", "--format", "jsonl", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == body
    assert dict(server.requests[0].url.params) == {"format": "jsonl"}
    assert f"to {out}" in result.stdout


def test_export_into_a_missing_folder_is_a_usage_error(server, cli, tmp_path):
    server.on("GET", "/projects/p1/export", httpx.Response(200, content=b"x"))
    result = cli("export", "p1", "--format", "csv", "--out", str(tmp_path / "no" / "x.csv"))
    assert result.exit_code == 2
    assert "error:" in result.stderr and "hint:" in result.stderr


def test_export_requires_format_and_out(server, cli):
    result = cli("export", "p1")
    assert result.exit_code == 2
    assert server.requests == []


def test_quality_waits_for_a_report_computed_in_the_background(server, cli, monkeypatch):
    import labelvault.cli.projects as commands

    replies = iter(
        [
            httpx.Response(202, json={"status": "running", "progress": 0.2, "stage": "reading"}),
            httpx.Response(202, json={"status": "running", "progress": 0.7, "stage": "aggr"}),
            httpx.Response(200, json={**QUALITY, "status": "ready"}),
        ]
    )
    server.on("GET", "/projects/p1/quality", lambda request: next(replies))
    original = commands._wait_for_report
    monkeypatch.setattr(commands, "_wait_for_report", lambda c, p: original(c, p, poll_s=0.0))
    result = cli("quality", "p1", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "ready"
    assert len([r for r in server.requests if r.url.path.endswith("/quality")]) == 3
