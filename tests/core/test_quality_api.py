"""Quality reports, consensus in exports and leaderboards, end to end."""

from __future__ import annotations

import io
import random
import time

import orjson

from labelvault.domain.roles import OrgRole
from labelvault.services import accounts, items, projects, quality, queue
from labelvault.services.context import Principal

SCHEMA = {
    "fields": [
        {"name": "animal", "type": "single_choice", "options": ["cat", "dog", "bird"]},
        {"name": "stars", "type": "rating", "min": 1, "max": 5, "step": 1},
        {"name": "tags", "type": "multi_choice", "options": ["cute", "outdoor"]},
        {"name": "names", "type": "spans", "source": "text", "labels": ["PET"]},
    ]
}
TRUTH = ["cat", "dog", "bird"]


def _owner(platform):
    org = accounts.init_org(platform, "lead@lab.test")
    return Principal(org.user_id, org.org_id, "lead@lab.test", OrgRole.OWNER)


def _annotators(platform, owner, project_id, n):
    people = []
    for k in range(n):
        user = accounts.invite_user(platform, owner, f"a{k}@lab.test", "member", None)
        projects.set_member(platform, owner, project_id, user["user_id"], "annotator")
        people.append(Principal(user["user_id"], owner.org_id, user["email"], OrgRole.MEMBER))
    return people


def _setup(platform, n_items=90, n_annotators=5):
    owner = _owner(platform)
    pid = projects.create(platform, owner, name="q", schema=SCHEMA, overlap=n_annotators)["id"]
    rows = [
        {"id": f"i{i}", "text": f"Rex is pet {i}", "truth": TRUTH[i % 3]} for i in range(n_items)
    ]
    body = io.BytesIO(b"\n".join(orjson.dumps(r) for r in rows))
    items.import_items(platform, owner, pid, body, "jsonl")
    return owner, pid, _annotators(platform, owner, pid, n_annotators)


def _work(platform, pid, people, spammer):
    rng = random.Random(7)
    for who in people:
        while (task := queue.next_task(platform, who, pid)) is not None:
            truth = task["item"]["data"]["truth"]
            if who.email == spammer:
                values = {
                    "animal": rng.choice(TRUTH),
                    "stars": rng.randint(1, 5),
                    "tags": rng.sample(["cute", "outdoor"], rng.randint(0, 2)),
                    "names": [],
                }
            else:
                values = {
                    "animal": truth if rng.random() > 0.1 else rng.choice(TRUTH),
                    "stars": 4,
                    "tags": ["cute"],
                    "names": [{"start": 0, "end": 3, "label": "PET"}],
                }
            queue.submit(platform, who, task["assignment_id"], values)


def test_report_recovers_truth_scores_annotators_and_flags_the_spammer(platform):
    owner, pid, people = _setup(platform)
    _work(platform, pid, people, spammer="a4@lab.test")
    report = quality.project_quality(platform, owner, pid)
    assert report["status"] == "ready" and report["answers"] == 450

    animal = report["fields"]["animal"]
    truth = {f"i{i}": TRUTH[i % 3] for i in range(90)}
    by_id = {i["item_id"]: i for i in animal["items"]}
    external = {
        r["id"]: r["external_id"]
        for r in items.list_items(platform, owner, pid, limit=100)["items"]
    }
    correct = sum(by_id[i]["label"] == truth[external[i]] for i in by_id)
    assert correct >= 86
    assert 0.3 < animal["agreement"]["krippendorff_alpha"] < 1.0
    scores = {a["annotator"]: a for a in animal["annotators"]}
    assert "likely_spammer" in scores["a4@lab.test"]["flags"]
    assert scores["a4@lab.test"]["explanation"]
    assert not scores["a0@lab.test"]["flags"]
    assert scores["a0@lab.test"]["estimated_accuracy"] > scores["a4@lab.test"]["estimated_accuracy"]

    stars = report["fields"]["stars"]
    assert stars["agreement"]["level"] == "interval"
    assert {i["label"] for i in stars["items"]} == {4}

    tags = report["fields"]["tags"]
    assert all(i["label"] == ["cute"] for i in tags["items"])
    assert set(tags["agreement"]["per_option"]) == {"cute", "outdoor"}

    names = report["fields"]["names"]
    spans = names["items"][0]["label"]
    assert [(s["start"], s["end"], s["label"]) for s in spans] == [(0, 3, "PET")]


def test_report_is_cached_until_a_new_answer_arrives(platform):
    owner, pid, people = _setup(platform, n_items=6, n_annotators=2)
    _work(platform, pid, people[:1], spammer="nobody")
    first = quality.project_quality(platform, owner, pid)
    again = quality.project_quality(platform, owner, pid)
    assert again["computed_at"] == first["computed_at"]
    _work(platform, pid, people[1:], spammer="nobody")
    fresh = quality.project_quality(platform, owner, pid)
    assert fresh["answers"] == 12 and fresh["computed_at"] >= first["computed_at"]
    assert fresh["answers"] != first["answers"]


def test_large_projects_are_computed_in_the_background(platform):
    owner, pid, people = _setup(platform, n_items=6, n_annotators=2)
    _work(platform, pid, people, spammer="nobody")
    started = quality.project_quality(platform, owner, pid, method="ds", background=True)
    assert started["status"] in ("running", "ready")
    deadline = time.monotonic() + 30
    report = started
    while report["status"] == "running" and time.monotonic() < deadline:
        assert 0.0 <= report["progress"] <= 1.0
        time.sleep(0.05)
        report = quality.project_quality(platform, owner, pid, method="ds", background=True)
    assert report["status"] == "ready"
    assert report["fields"]["animal"]["method"] == "dawid_skene"


def test_quality_endpoint_and_export_with_consensus(world):
    pid = world.project(schema={"fields": [SCHEMA["fields"][0]]}, overlap=2)["id"]
    world.add_items(pid, [{"id": "x", "text": "a"}, {"id": "y", "text": "b"}])
    for email in ("p@acme.test", "q@acme.test"):
        uid, client = world.user(email)
        world.member(pid, uid, "annotator")
        while (r := client.get(f"/api/v1/projects/{pid}/next")).status_code == 200:
            task = r.json()
            label = "cat" if task["item"]["external_id"] == "x" else "dog"
            client.post(
                f"/api/v1/assignments/{task['assignment_id']}/submit",
                json={"values": {"animal": label}},
            )
    r = world.owner.get(f"/api/v1/projects/{pid}/quality?method=mv")
    assert r.status_code == 200, r.text
    assert r.json()["fields"]["animal"]["method"] == "majority_vote"
    bad = world.owner.get(f"/api/v1/projects/{pid}/quality?method=nope")
    assert bad.status_code == 422 and "hint" in bad.json()
    export = world.owner.get(f"/api/v1/projects/{pid}/export?format=jsonl&consensus=true")
    records = {rec["external_id"]: rec for rec in map(orjson.loads, export.content.splitlines())}
    assert records["x"]["consensus"]["animal"]["label"] == "cat"
    assert records["y"]["consensus"]["animal"]["confidence"] > 0.5


def test_leaderboard_ranks_models_from_pairwise_answers(world):
    schema = {"fields": [{"name": "pref", "type": "pairwise", "allow_tie": True}]}
    pid = world.project(schema=schema)["id"]
    rows = [{"prompt": f"p{i}", "model_a": "strong", "model_b": "weak"} for i in range(12)]
    rows += [{"prompt": f"q{i}", "model_a": "weak", "model_b": "middle"} for i in range(12)]
    rows += [{"prompt": f"r{i}", "model_a": "middle", "model_b": "strong"} for i in range(8)]
    world.add_items(pid, rows)
    while (r := world.owner.get(f"/api/v1/projects/{pid}/next")).status_code == 200:
        task = r.json()
        data = task["item"]["data"]
        choice = "A" if data["model_a"] == "strong" else "B"
        if data["prompt"] in ("p0", "q0", "r0", "r1"):
            choice = "tie"
        world.owner.post(
            f"/api/v1/assignments/{task['assignment_id']}/submit",
            json={"values": {"pref": {"choice": choice}}},
        )
    board = world.owner.get(f"/api/v1/projects/{pid}/leaderboard")
    assert board.status_code == 200, board.text
    ranking = board.json()["ranking"]
    assert [m["model"] for m in ranking] == ["strong", "middle", "weak"]
    assert all(m["ci"][0] <= m["score"] <= m["ci"][1] for m in ranking)
    no_pairs = world.owner.get(f"/api/v1/projects/{world.project()['id']}/leaderboard")
    assert no_pairs.status_code == 422


def test_auto_never_label_switches_against_a_clear_majority():
    """Four annotators always answer the same class, one answers at random. Dawid-Skene
    can explain the constant four as "always says 3 whatever the truth" and take the
    random one as the truth, with a better held-out likelihood; auto must not pick that."""
    import numpy as np

    n_items, constant = 90, 3
    tasks = np.repeat(np.arange(n_items), 5)
    workers = np.tile(np.arange(5), n_items)
    for seed in (3, 5, 6, 7, 10):  # seeds where plain held-out selection picks the switch
        labels = np.where(workers < 4, constant, np.random.default_rng(seed).integers(0, 5, 450))
        model, name, _ = quality._categorical(tasks, workers, labels, 5, "auto")
        assert (np.asarray(model.labels_) == constant).all(), (seed, name)
