"""The core loop through the REST API: project -> import -> next -> submit -> export."""

from __future__ import annotations

import io

import orjson
import pyarrow.parquet as pq


def test_import_next_submit_export(world):
    project = world.project(overlap=2)
    pid = project["id"]
    assert world.add_items(pid, [{"id": "a", "text": "good"}, {"id": "b", "text": "bad"}]) == {
        "created": 2,
        "updated": 0,
        "skipped_duplicates": 0,
        "failed": 0,
        "errors": [],
    }
    ann1_id, ann1 = world.user("ann1@acme.test")
    ann2_id, ann2 = world.user("ann2@acme.test")
    world.member(pid, ann1_id, "annotator")
    world.member(pid, ann2_id, "annotator")

    seen = {}
    for client in (ann1, ann2):
        for _ in range(2):
            r = client.get(f"/api/v1/projects/{pid}/next")
            assert r.status_code == 200, r.text
            task = r.json()
            label = "pos" if task["item"]["data"]["text"] == "good" else "neg"
            s = client.post(
                f"/api/v1/assignments/{task['assignment_id']}/submit",
                json={"values": {"sentiment": label}},
                headers={"Idempotency-Key": f"k{task['assignment_id']}"},
            )
            assert s.status_code == 200, s.text
            seen.setdefault(client, set()).add(task["item"]["external_id"])
        assert client.get(f"/api/v1/projects/{pid}/next").status_code == 204
    assert seen[ann1] == seen[ann2] == {"a", "b"}

    info = world.owner.get(f"/api/v1/projects/{pid}").json()
    assert info["counts"] == {"items": 2, "annotations": 4, "completed_items": 2}

    r = world.owner.get(f"/api/v1/projects/{pid}/export?format=jsonl")
    assert r.status_code == 200
    records = [orjson.loads(line) for line in r.content.splitlines()]
    assert [rec["external_id"] for rec in records] == ["a", "b"]
    assert {a["annotator"] for a in records[0]["annotations"]} == {
        "ann1@acme.test",
        "ann2@acme.test",
    }
    assert {a["values"]["sentiment"] for a in records[1]["annotations"]} == {"neg"}

    r = world.owner.get(f"/api/v1/projects/{pid}/export?format=parquet")
    table = pq.read_table(io.BytesIO(r.content))
    assert table.num_rows == 2

    q = world.owner.get(f"/api/v1/projects/{pid}/quality")
    assert q.status_code == 200, q.text
    consensus = {i["item_id"]: i["label"] for i in q.json()["fields"]["sentiment"]["items"]}
    assert sorted(consensus.values()) == ["neg", "pos"]


def test_submit_retry_with_same_key_stores_once(world):
    pid = world.project()["id"]
    world.add_items(pid, [{"text": "x"}])
    task = world.owner.get(f"/api/v1/projects/{pid}/next").json()
    url = f"/api/v1/assignments/{task['assignment_id']}/submit"
    first = world.owner.post(
        url, json={"values": {"sentiment": "pos"}}, headers={"Idempotency-Key": "same"}
    )
    again = world.owner.post(
        url, json={"values": {"sentiment": "pos"}}, headers={"Idempotency-Key": "same"}
    )
    assert first.status_code == again.status_code == 200
    assert again.json()["replayed"] is True
    assert first.json()["submitted_at"] == again.json()["submitted_at"]
    other = world.owner.post(
        url, json={"values": {"sentiment": "neg"}}, headers={"Idempotency-Key": "different"}
    )
    assert other.status_code == 409
    export = world.owner.get(f"/api/v1/projects/{pid}/export").content.splitlines()
    assert len(orjson.loads(export[0])["annotations"]) == 1


def test_bad_answer_is_422_naming_the_field(world):
    pid = world.project()["id"]
    world.add_items(pid, [{"text": "x"}])
    task = world.owner.get(f"/api/v1/projects/{pid}/next").json()
    r = world.owner.post(
        f"/api/v1/assignments/{task['assignment_id']}/submit",
        json={"values": {"sentiment": "maybe"}},
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["errors"][0]["field"] == "sentiment"
    assert "hint" in body
