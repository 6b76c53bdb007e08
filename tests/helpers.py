"""Test helpers: a small world of orgs, users and HTTP clients on one app."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from labelvault.services import accounts

SENTIMENT_SCHEMA = {
    "fields": [
        {"name": "sentiment", "type": "single_choice", "options": ["pos", "neg", "neu"]},
    ]
}


class World:
    def __init__(self, app: Any, platform: Any) -> None:
        self.app = app
        self.platform = platform
        org = accounts.init_org(platform, "owner@acme.test", org_name="acme")
        other = accounts.init_org(platform, "owner@globex.test", org_name="globex")
        self.org_id, self.owner_token = org.org_id, org.token
        self.other_org_id, self.other_owner_token = other.org_id, other.token
        self.owner = self.client(org.token)
        self.other_owner = self.client(other.token)

    def client(self, token: str | None) -> TestClient:
        client = TestClient(self.app, raise_server_exceptions=False)
        if token:
            client.headers["Authorization"] = f"Bearer {token}"
        return client

    def user(
        self, email: str, *, org_role: str = "member", by: TestClient | None = None
    ) -> tuple[int, TestClient]:
        r = (by or self.owner).post("/api/v1/users", json={"email": email, "org_role": org_role})
        assert r.status_code == 201, r.text
        body = r.json()
        return body["user_id"], self.client(body["token"])

    def project(
        self,
        *,
        schema: dict[str, Any] | None = None,
        overlap: int = 1,
        by: TestClient | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        r = (by or self.owner).post(
            "/api/v1/projects",
            json={"name": "p", "schema": schema or SENTIMENT_SCHEMA, "overlap": overlap, **extra},
        )
        assert r.status_code == 201, r.text
        return r.json()

    def add_items(
        self, project_id: int, rows: list[dict[str, Any]], by: TestClient | None = None
    ) -> dict[str, Any]:
        import orjson

        body = b"\n".join(orjson.dumps(r) for r in rows)
        r = (by or self.owner).post(
            f"/api/v1/projects/{project_id}/items",
            content=body,
            headers={"Content-Type": "application/x-ndjson"},
        )
        assert r.status_code == 200, r.text
        return r.json()

    def member(self, project_id: int, user_id: int, role: str) -> None:
        r = self.owner.put(f"/api/v1/projects/{project_id}/members/{user_id}", json={"role": role})
        assert r.status_code == 200, r.text
