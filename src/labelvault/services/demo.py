"""A demo organisation with users and projects of several kinds, for `serve --demo`."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import orjson

from labelvault.services import accounts, items, projects
from labelvault.services.context import Platform, Principal
from labelvault.storage import accounts as account_store

OWNER_EMAIL = "owner@demo.labelvault"
DEMO_PASSWORD = "demo-password-1"

SENTIMENT = {
    "fields": [
        {
            "name": "sentiment",
            "type": "single_choice",
            "options": ["positive", "negative", "neutral"],
        },
        {"name": "confidence", "type": "rating", "min": 1, "max": 5, "step": 1, "required": False},
    ]
}
NER = {
    "fields": [
        {"name": "entities", "type": "spans", "source": "text", "labels": ["PER", "ORG", "LOC"]},
    ]
}
PREFERENCE = {
    "fields": [
        {"name": "preference", "type": "pairwise", "allow_tie": True, "strength": True},
        {
            "name": "rubric",
            "type": "rubric",
            "criteria": [
                {"name": "helpful", "min": 1, "max": 5},
                {"name": "harmless", "min": 1, "max": 5},
            ],
        },
    ]
}

REVIEWS = [
    "The battery lasts all day and the screen is gorgeous.",
    "Support never answered my emails. Returning it.",
    "It works. Nothing special, nothing wrong.",
    "Best purchase I made this year, my whole team uses it.",
    "Arrived broken and the replacement took three weeks.",
    "Decent value for the price, though the manual is confusing.",
]
SENTENCES = [
    "Ada Lovelace worked with Charles Babbage in London.",
    "The Red Cross opened an office in Nairobi last spring.",
    "Grace Hopper joined the US Navy in 1943.",
]
PAIRS = [
    ("How do I reverse a list in Python?", "model-a", "model-b"),
    ("Summarise the causes of the French Revolution.", "model-b", "model-c"),
    ("Write a haiku about autumn.", "model-a", "model-c"),
]


@dataclass
class DemoInfo:
    org_id: int
    logins: list[dict[str, str]] = field(default_factory=list)
    projects: list[dict[str, Any]] = field(default_factory=list)


def _ndjson(rows: list[dict[str, Any]]) -> io.BytesIO:
    return io.BytesIO(b"\n".join(orjson.dumps(r) for r in rows))


def seed(platform: Platform) -> DemoInfo:
    """Create the demo org once; on later runs, return fresh tokens for the same users."""
    with platform.db.read() as conn:
        existing = account_store.user_by_email(conn, OWNER_EMAIL)
    if existing:
        return _tokens_for_existing(platform, existing["org_id"])
    org = accounts.init_org(platform, OWNER_EMAIL, org_name="Demo Lab", password=DEMO_PASSWORD)
    owner = Principal(org.user_id, org.org_id, OWNER_EMAIL, accounts.OrgRole.OWNER)
    info = DemoInfo(org_id=org.org_id)
    info.logins.append(
        {"email": OWNER_EMAIL, "password": DEMO_PASSWORD, "role": "owner", "token": org.token}
    )
    annotators = []
    for n in (1, 2, 3):
        user = accounts.invite_user(
            platform, owner, f"annotator{n}@demo.labelvault", "member", DEMO_PASSWORD
        )
        annotators.append(user)
        info.logins.append(
            {
                "email": user["email"],
                "password": DEMO_PASSWORD,
                "role": "annotator",
                "token": user["token"],
            }
        )
    specs = [
        (
            "Product review sentiment",
            SENTIMENT,
            2,
            [{"id": f"review-{i}", "text": t} for i, t in enumerate(REVIEWS)],
        ),
        (
            "News entities",
            NER,
            1,
            [{"id": f"sent-{i}", "text": t} for i, t in enumerate(SENTENCES)],
        ),
        (
            "Chatbot arena",
            PREFERENCE,
            2,
            [
                {
                    "id": f"pair-{i}",
                    "prompt": p,
                    "model_a": a,
                    "model_b": b,
                    "response_a": f"[{a}] answer to: {p}",
                    "response_b": f"[{b}] answer to: {p}",
                }
                for i, (p, a, b) in enumerate(PAIRS)
            ],
        ),
    ]
    for name, schema, overlap, rows in specs:
        project = projects.create(platform, owner, name=name, schema=schema, overlap=overlap)
        items.import_items(platform, owner, project["id"], _ndjson(rows), "jsonl")
        for user in annotators:
            projects.set_member(platform, owner, project["id"], user["user_id"], "annotator")
        info.projects.append({"id": project["id"], "name": name, "items": len(rows)})
    return info


def _tokens_for_existing(platform: Platform, org_id: int) -> DemoInfo:
    info = DemoInfo(org_id=org_id)
    with platform.db.read() as conn:
        users = account_store.list_users(conn, org_id)
    for user in users:
        who = Principal(user["id"], org_id, user["email"], accounts.OrgRole(user["org_role"]))
        token = accounts.create_token(platform, who, "demo", 7)["token"]
        role = "owner" if user["org_role"] == "owner" else "annotator"
        info.logins.append(
            {"email": user["email"], "password": DEMO_PASSWORD, "role": role, "token": token}
        )
    owner = Principal(users[0]["id"], org_id, users[0]["email"], accounts.OrgRole.OWNER)
    info.projects = [
        {"id": p["id"], "name": p["name"]} for p in projects.list_visible(platform, owner)
    ]
    return info
