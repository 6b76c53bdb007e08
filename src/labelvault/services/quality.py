"""Quality reports: consensus per item, agreement per field, scores per annotator.

Answers are decrypted here, in the service layer, turned into integer codes and handed to
labelvault.quality, which is pure math and never sees the database or the keys.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import orjson

from labelvault import quality as q
from labelvault.crypto import aad
from labelvault.domain.roles import Permission
from labelvault.errors import InvalidInput
from labelvault.services import audit
from labelvault.services.access import authorize_project
from labelvault.services.context import Platform, Principal
from labelvault.services.projects import schema_of
from labelvault.storage import accounts as account_store
from labelvault.storage import queue as queue_store

METHODS = ("auto", "mv", "ds")
MAX_ITEMS_LISTED = 1000


def _decoded_answers(platform: Platform, conn: Any, project_id: int) -> list[dict[str, Any]]:
    key = platform.data_key(conn, project_id)
    rows = queue_store.submitted_answers(conn, project_id)
    for row in rows:
        row["values"] = orjson.loads(
            key.decrypt(bytes(row["answer"]), aad(project_id, row["id"], "answer"))
        )
    return rows


def project_quality(
    platform: Platform, who: Principal, project_id: int, *, method: str = "auto"
) -> dict[str, Any]:
    if method not in METHODS:
        raise InvalidInput(f"unknown method {method!r}", hint=f"use one of: {', '.join(METHODS)}")
    with platform.db.write() as conn:
        access = authorize_project(conn, who, project_id, Permission.QUALITY_READ)
        schema = schema_of(access.project)
        answers = _decoded_answers(platform, conn, project_id)
        emails = {u["id"]: u["email"] for u in account_store.list_users(conn, who.org_id)}
        audit.record_as(
            conn, who, "project.quality", f"project:{project_id}", {"answers": len(answers)}
        )
    fields: dict[str, Any] = {}
    for name, classes in schema.categorical_fields():
        field = schema.field(name)
        index = {c: i for i, c in enumerate(classes)}
        triples = [
            (a["item_id"], a["annotator_id"], index[field.category_of(a["values"][name])])
            for a in answers
            if a["values"].get(name) is not None
        ]
        fields[name] = _field_report(triples, [str(c) for c in classes], emails, method)
    return {"project_id": project_id, "answers": len(answers), "fields": fields}


def _field_report(
    triples: list[tuple[int, int, int]], classes: list[str], emails: dict[int, str], method: str
) -> dict[str, Any]:
    if not triples:
        return {"method": None, "labels": 0, "items": [], "annotators": [], "agreement": {}}
    item_ids, task_codes = np.unique(np.array([t[0] for t in triples]), return_inverse=True)
    worker_ids, worker_codes = np.unique(np.array([t[1] for t in triples]), return_inverse=True)
    labels = np.array([t[2] for t in triples], dtype=np.int64)
    k = len(classes)
    per_task = np.bincount(task_codes)
    use_ds = method == "ds" or (method == "auto" and per_task.max() > 1 and len(worker_ids) > 1)
    model: Any = q.DawidSkene(max_iter=100) if use_ds else q.MajorityVote()
    model.fit(task_codes, worker_codes, labels, n_classes=k)
    consensus = np.asarray(model.labels_)
    probas = np.asarray(model.probas_)
    confidence = probas[np.arange(len(consensus)), np.clip(consensus, 0, k - 1)]
    agree = consensus[task_codes] == labels
    multi = per_task[task_codes] > 1
    annotators = []
    for w, user_id in enumerate(worker_ids):
        mine = worker_codes == w
        judged = mine & multi
        row: dict[str, Any] = {
            "annotator": emails.get(int(user_id), str(user_id)),
            "labels": int(mine.sum()),
            "agreement_with_consensus": (float(agree[judged].mean()) if judged.any() else None),
        }
        skills = getattr(model, "skills_", None)
        if skills is not None:
            row["estimated_accuracy"] = float(np.asarray(skills)[w])
        annotators.append(row)
    pairs_agree = _percent_agreement(task_codes, labels, len(item_ids))
    items = [
        {
            "item_id": int(item_ids[t]),
            "label": classes[int(consensus[t])],
            "confidence": round(float(confidence[t]), 6),
            "labels": int(per_task[t]),
        }
        for t in range(min(len(item_ids), MAX_ITEMS_LISTED))
    ]
    return {
        "method": "dawid_skene" if use_ds else "majority_vote",
        "labels": len(triples),
        "items_total": len(item_ids),
        "items": items,
        "annotators": annotators,
        "agreement": {"percent_agreement": pairs_agree},
    }


def _percent_agreement(tasks: np.ndarray, labels: np.ndarray, n_tasks: int) -> float | None:
    """Share of agreeing pairs among all pairs of answers on the same item."""
    k = int(labels.max()) + 1
    counts = np.zeros((n_tasks, k), dtype=np.int64)
    np.add.at(counts, (tasks, labels), 1)
    n = counts.sum(axis=1)
    pairs = n * (n - 1)
    if pairs.sum() == 0:
        return None
    return float((counts * (counts - 1)).sum() / pairs.sum())


def leaderboard(platform: Platform, who: Principal, project_id: int) -> dict[str, Any]:
    """Bradley-Terry ranking from pairwise fields over items that name their two models."""
    with platform.db.write() as conn:
        access = authorize_project(conn, who, project_id, Permission.QUALITY_READ)
        schema = schema_of(access.project)
        pairwise = [f.name for f in schema.fields if getattr(f, "type", "") == "pairwise"]
        if not pairwise:
            raise InvalidInput(
                "this project has no pairwise field to rank from",
                hint="leaderboards need a schema field of type 'pairwise' and "
                "items with 'model_a' and 'model_b' keys",
            )
        answers = _decoded_answers(platform, conn, project_id)
        from labelvault.services.items import decode_item
        from labelvault.storage import items as item_store

        models: dict[int, tuple[str, str]] = {}
        for a in answers:
            if a["item_id"] not in models:
                row = item_store.get_item(conn, who.org_id, project_id, a["item_id"])
                data = decode_item(platform, conn, project_id, row)["data"] if row else {}
                models[a["item_id"]] = (str(data.get("model_a")), str(data.get("model_b")))
        audit.record_as(conn, who, "project.leaderboard", f"project:{project_id}")
    field = pairwise[0]
    outcome_of = {"A": 1.0, "B": 0.0, "tie": 0.5}
    battles = defaultdict(int)
    left, right, outcome = [], [], []
    for a in answers:
        choice = (a["values"].get(field) or {}).get("choice")
        ma, mb = models[a["item_id"]]
        if choice in outcome_of and ma != "None" and mb != "None":
            left.append(ma)
            right.append(mb)
            outcome.append(outcome_of[choice])
            battles[ma] += 1
            battles[mb] += 1
    if not left:
        return {"field": field, "battles": 0, "ranking": []}
    names = sorted(battles)
    code = {n: i for i, n in enumerate(names)}
    bt = q.BradleyTerry(ties="davidson").fit(
        np.array([code[x] for x in left]),
        np.array([code[x] for x in right]),
        np.array(outcome, dtype=float),
    )
    scores = np.asarray(bt.scores_)
    ci = np.asarray(bt.ci_) if getattr(bt, "ci_", None) is not None else None
    order = np.argsort(-scores)
    ranking = [
        {
            "rank": r + 1,
            "model": names[i],
            "score": float(scores[i]),
            "ci": [float(ci[i][0]), float(ci[i][1])] if ci is not None else None,
            "battles": battles[names[i]],
        }
        for r, i in enumerate(order)
    ]
    return {"field": field, "battles": len(left), "ranking": ranking}
