"""Quality reports: consensus per item, agreement per field, scores per annotator.

Answers are decrypted here, in the service layer, turned into integer codes and handed to
labelvault.quality, which is pure math and never sees the database or the keys.

Reports are cached per project until a new answer arrives (the cache key is the count and
the latest time of the project's submitted answers). A project with many answers is
computed in a background thread: the first request answers 202 with the job's progress,
and later requests get the report once it is ready.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from labelvault import quality as q
from labelvault.crypto import DataKey, aad
from labelvault.domain.roles import Permission
from labelvault.domain.schema import LabelSchema
from labelvault.errors import InvalidInput
from labelvault.quality.auto import CANDIDATES
from labelvault.services import audit
from labelvault.services.access import authorize_project
from labelvault.services.context import Platform, Principal
from labelvault.services.items import decode_item
from labelvault.services.projects import schema_of
from labelvault.storage import accounts as account_store
from labelvault.storage import items as item_store
from labelvault.storage import queue as queue_store

METHODS = ("auto", "mv", "wawa", "ds", "one_coin_ds", "glad", "mace")
METHOD_NAMES = {
    "mv": "majority_vote",
    "wawa": "wawa",
    "ds": "dawid_skene",
    "one_coin_ds": "one_coin_dawid_skene",
    "glad": "glad",
    "mace": "mace",
}
#: Projects with more submitted answers than this are computed in the background.
BACKGROUND_ANSWERS = 200_000
MAX_ITEMS_LISTED = 1000


@dataclass
class Report:
    """A computed report: the public body plus the full per-item consensus for export."""

    fingerprint: tuple[int, int, int]
    body: dict[str, Any]
    consensus: dict[int, dict[str, Any]]


@dataclass
class Job:
    fingerprint: tuple[int, int, int]
    started_at: float = field(default_factory=time.time)
    progress: float = 0.0
    stage: str = "starting"
    error: str | None = None


_reports: dict[tuple[int, int, str], Report] = {}
_jobs: dict[tuple[int, int, str], Job] = {}
_lock = threading.Lock()


def _check_method(method: str) -> str:
    if method not in METHODS:
        raise InvalidInput(f"unknown method {method!r}", hint=f"use one of: {', '.join(METHODS)}")
    return method


def project_quality(
    platform: Platform,
    who: Principal,
    project_id: int,
    *,
    method: str = "auto",
    background: bool | None = None,
) -> dict[str, Any]:
    """The project's quality report, from cache, computed now, or as a running job."""
    _check_method(method)
    with platform.db.write() as conn:
        authorize_project(conn, who, project_id, Permission.QUALITY_READ)
        fingerprint = queue_store.answers_fingerprint(conn, project_id)
        audit.record_as(conn, who, "project.quality", f"project:{project_id}")
    key = (id(platform), project_id, method)
    cached = _reports.get(key)
    if cached is not None and cached.fingerprint == fingerprint:
        return {**cached.body, "status": "ready"}
    large = fingerprint[0] > BACKGROUND_ANSWERS if background is None else background
    if not large:
        report = compute(platform, who.org_id, project_id, method, fingerprint)
        return {**report.body, "status": "ready"}
    with _lock:
        job = _jobs.get(key)
        if job is None or job.fingerprint != fingerprint or job.error:
            job = Job(fingerprint)
            _jobs[key] = job
            threading.Thread(
                target=_run_job,
                args=(platform, who.org_id, project_id, method, job),
                name=f"quality-{project_id}",
                daemon=True,
            ).start()
    return {
        "project_id": project_id,
        "status": "running",
        "progress": round(job.progress, 3),
        "stage": job.stage,
        "answers": fingerprint[0],
        "hint": "the report is being computed in the background; ask again in a moment",
    }


def _run_job(platform: Platform, org_id: int, project_id: int, method: str, job: Job) -> None:
    def progress(share: float, stage: str) -> None:
        job.progress, job.stage = share, stage

    try:
        compute(platform, org_id, project_id, method, job.fingerprint, progress)
        progress(1.0, "done")
    except Exception as exc:  # noqa: BLE001 - reported to the next caller, never lost
        job.error = str(exc)
        job.stage = f"failed: {exc}"


def consensus_for_export(
    platform: Platform, org_id: int, project_id: int, method: str = "auto"
) -> dict[int, dict[str, Any]]:
    """item_id -> {field: {"label", "confidence"}}, from cache or computed now."""
    with platform.db.read() as conn:
        fingerprint = queue_store.answers_fingerprint(conn, project_id)
    cached = _reports.get((id(platform), project_id, method))
    if cached is not None and cached.fingerprint == fingerprint:
        return cached.consensus
    return compute(platform, org_id, project_id, method, fingerprint).consensus


def compute(
    platform: Platform,
    org_id: int,
    project_id: int,
    method: str,
    fingerprint: tuple[int, int, int],
    progress: Callable[[float, str], None] | None = None,
) -> Report:
    """Decrypt every submitted answer, then aggregate field by field."""
    step = progress or (lambda share, stage: None)
    step(0.05, "reading answers")
    with platform.db.read() as conn:
        project = _project_row(conn, org_id, project_id)
        schema = schema_of(project)
        key = platform.data_key(conn, project_id)
        emails = {u["id"]: u["email"] for u in account_store.list_users(conn, org_id)}
        answers = _submitted_answers(
            conn, key, project_id, lambda share: step(0.05 + 0.45 * share, "decrypting answers")
        )
        texts = _span_texts(platform, conn, org_id, project_id, schema, answers)
    fields: dict[str, Any] = {}
    consensus: dict[int, dict[str, Any]] = {}
    aggregable = _aggregable_fields(schema)
    for n, (name, kind) in enumerate(aggregable):
        step(0.5 + 0.5 * n / max(len(aggregable), 1), f"aggregating {name}")
        report = _FIELD_REPORTS[kind](schema, name, answers, emails, method, texts)
        for item_id, value in report.pop("_consensus").items():
            consensus.setdefault(item_id, {})[name] = value
        fields[name] = report
    body = {
        "project_id": project_id,
        "answers": len(answers),
        "computed_at": int(time.time() * 1000),
        "fields": fields,
    }
    result = Report(fingerprint, body, consensus)
    with _lock:
        _reports[(id(platform), project_id, method)] = result
    return result


def _submitted_answers(
    conn: Any,
    key: DataKey,
    project_id: int,
    progress: Callable[[float], None] | None = None,
) -> list[dict[str, Any]]:
    """Every submitted answer of the project, with its decrypted `values`."""
    answers = queue_store.submitted_answers(conn, project_id)
    for i, row in enumerate(answers):
        row["values"] = orjson.loads(
            key.decrypt(row["answer"], aad(project_id, row["id"], "answer"))
        )
        if progress is not None and i % 50_000 == 0:
            progress(i / max(len(answers), 1))
    return answers


def _item_data(
    platform: Platform, conn: Any, org_id: int, project_id: int, answers: list[dict[str, Any]]
) -> dict[int, dict[str, Any]]:
    """item id -> decrypted item data, for every item the answers are about."""
    found: dict[int, dict[str, Any]] = {}
    for item_id in sorted({a["item_id"] for a in answers}):
        row = item_store.get_item(conn, org_id, project_id, item_id)
        if row is not None:
            found[item_id] = decode_item(platform, conn, project_id, row)["data"]
    return found


def _project_row(conn: Any, org_id: int, project_id: int) -> dict[str, Any]:
    from labelvault.storage import projects as project_store

    project = project_store.get_project(conn, org_id, project_id)
    if project is None:
        from labelvault.services.access import project_not_found

        raise project_not_found(project_id)
    return project


def _aggregable_fields(schema: LabelSchema) -> list[tuple[str, str]]:
    found = []
    for f in schema.fields:
        kind = str(f.kind)
        if kind in ("single_choice", "rating", "pairwise") and f.categories():
            found.append((f.name, "categorical"))
        elif kind == "multi_choice":
            found.append((f.name, "multi_choice"))
        elif kind == "spans":
            found.append((f.name, "spans"))
    return found


# -- categorical fields ----------------------------------------------------------------


AUTO_CANDIDATES = ("mv", "wawa", "ds", "one_coin_ds", "glad", "mace")
#: In auto mode a model must agree with a strict majority vote on this share of the items
#: that have one; held-out likelihood alone cannot see label switching (a confusion-matrix
#: model may "explain" unanimous annotators as always answering the same, whatever the truth).
MIN_MAJORITY_AGREEMENT = 0.8


def _categorical(
    tasks: np.ndarray, workers: np.ndarray, labels: np.ndarray, k: int, method: str
) -> tuple[Any, str, np.ndarray]:
    per_task = np.bincount(tasks)
    if method != "auto":
        model = CANDIDATES[method]().fit(tasks, workers, labels, n_classes=k)
        return model, METHOD_NAMES[method], per_task
    mv = q.MajorityVote().fit(tasks, workers, labels, n_classes=k)
    if int(per_task.max()) < 2 or int(workers.max()) < 1:
        return mv, "majority_vote", per_task
    votes = np.zeros((per_task.size, k))
    np.add.at(votes, (tasks, labels), 1)
    clear = votes.max(axis=1) > per_task / 2
    candidates = list(AUTO_CANDIDATES)
    while candidates:
        model = q.AutoAggregator(candidates).fit(tasks, workers, labels, n_classes=k)
        chosen = np.asarray(model.labels_)
        if not clear.any() or (chosen[clear] == mv.labels_[clear]).mean() >= MIN_MAJORITY_AGREEMENT:
            return model, METHOD_NAMES.get(model.best_, model.best_), per_task
        candidates.remove(model.best_)
    return mv, "majority_vote", per_task


def _categorical_report(
    schema: LabelSchema,
    name: str,
    answers: list[dict[str, Any]],
    emails: dict[int, str],
    method: str,
    _texts: dict[int, str],
) -> dict[str, Any]:
    field_ = schema.field(name)
    classes = list(field_.categories() or [])
    index = {c: i for i, c in enumerate(classes)}
    rows = [
        (a["item_id"], a["annotator_id"], index[field_.category_of(a["values"][name])])
        for a in answers
        if a["values"].get(name) is not None
    ]
    if not rows:
        return _empty()
    item_ids, tasks = np.unique(np.array([r[0] for r in rows]), return_inverse=True)
    worker_ids, workers = np.unique(np.array([r[1] for r in rows]), return_inverse=True)
    labels = np.array([r[2] for r in rows], dtype=np.int64)
    model, used, per_task = _categorical(tasks, workers, labels, len(classes), method)
    consensus = np.asarray(model.labels_)
    probas = np.asarray(model.probas_)
    confidence = probas[np.arange(consensus.size), np.clip(consensus, 0, len(classes) - 1)]
    names = [emails.get(int(u), str(u)) for u in worker_ids]
    scores = q.score_annotators(
        tasks, workers, labels, model=model, n_classes=len(classes), worker_names=names
    )
    numeric = str(field_.kind) == "rating"
    agreement: dict[str, Any] = {
        "krippendorff_alpha": _alpha(
            tasks,
            workers,
            np.array([classes[c] for c in labels], dtype=float) if numeric else labels,
            "interval" if numeric else "nominal",
        ),
        "level": "interval" if numeric else "nominal",
        "percent_agreement": _percent(tasks, workers, labels),
    }
    by_item = {
        int(item_ids[t]): {"label": classes[int(consensus[t])], "confidence": _round(confidence[t])}
        for t in range(item_ids.size)
    }
    return {
        "kind": str(field_.kind),
        "method": used,
        "labels": int(labels.size),
        "items_total": int(item_ids.size),
        "agreement": agreement,
        "annotators": _annotator_records(scores),
        "items": [
            {"item_id": i, **v, "labels": int(per_task[t])}
            for t, (i, v) in enumerate(list(by_item.items())[:MAX_ITEMS_LISTED])
        ],
        "_consensus": by_item,
    }


def _annotator_records(scores: Any) -> list[dict[str, Any]]:
    records = scores.to_records()
    for record in records:
        record["annotator"] = record.pop("worker")
    return records


# -- multi choice: one yes/no question per option ---------------------------------------


def _multi_choice_report(
    schema: LabelSchema,
    name: str,
    answers: list[dict[str, Any]],
    emails: dict[int, str],
    method: str,
    _texts: dict[int, str],
) -> dict[str, Any]:
    options = list(schema.field(name).options)  # type: ignore[attr-defined]
    given = [a for a in answers if a["values"].get(name) is not None]
    if not given:
        return _empty()
    item_ids, tasks = np.unique(np.array([a["item_id"] for a in given]), return_inverse=True)
    worker_ids, workers = np.unique(
        np.array([a["annotator_id"] for a in given]), return_inverse=True
    )
    chosen = np.array(
        [[o in set(a["values"][name]) for o in options] for a in given], dtype=np.int64
    )
    per_option: dict[str, Any] = {}
    yes = np.zeros((item_ids.size, len(options)))
    used = ""
    for j, option in enumerate(options):
        model, used, _ = _categorical(tasks, workers, chosen[:, j], 2, method)
        yes[:, j] = np.asarray(model.probas_)[:, 1]
        per_option[option] = {
            "krippendorff_alpha": _alpha(tasks, workers, chosen[:, j], "nominal"),
            "percent_agreement": _percent(tasks, workers, chosen[:, j]),
        }
    by_item = {
        int(item_ids[t]): {
            "label": [o for j, o in enumerate(options) if yes[t, j] > 0.5],
            "confidence": _round(float(np.min(np.maximum(yes[t], 1 - yes[t])))),
            "options": {o: _round(yes[t, j]) for j, o in enumerate(options)},
        }
        for t in range(item_ids.size)
    }
    names = [emails.get(int(u), str(u)) for u in worker_ids]
    agree = (chosen == (yes[tasks] > 0.5)).mean(axis=1)
    annotators = [
        {
            "annotator": names[w],
            "n_answers": int((workers == w).sum()),
            "consensus_agreement": _round(float(agree[workers == w].mean())),
        }
        for w in range(worker_ids.size)
    ]
    return {
        "kind": "multi_choice",
        "method": used,
        "labels": len(given),
        "items_total": int(item_ids.size),
        "agreement": {"per_option": per_option, "level": "nominal"},
        "annotators": annotators,
        "items": [{"item_id": i, **v} for i, v in list(by_item.items())[:MAX_ITEMS_LISTED]],
        "_consensus": by_item,
    }


# -- spans: character-level BIO aggregation ---------------------------------------------


def _span_texts(
    platform: Platform,
    conn: Any,
    org_id: int,
    project_id: int,
    schema: LabelSchema,
    answers: list[dict[str, Any]],
) -> dict[int, str]:
    """Texts of the items that have span answers (span offsets index into them)."""
    sources = {f.name: f.source for f in schema.fields if str(f.kind) == "spans"}  # type: ignore[attr-defined]
    if not sources:
        return {}
    texts: dict[int, str] = {}
    for item_id, data in _item_data(platform, conn, org_id, project_id, answers).items():
        for source in sources.values():
            if isinstance(data.get(source), str):
                texts[item_id] = data[source]
    return texts


def _spans_report(
    schema: LabelSchema,
    name: str,
    answers: list[dict[str, Any]],
    emails: dict[int, str],
    method: str,
    texts: dict[int, str],
) -> dict[str, Any]:
    labels_ = list(schema.field(name).labels)  # type: ignore[attr-defined]
    given = [a for a in answers if a["values"].get(name) is not None and a["item_id"] in texts]
    if not given:
        return _empty()
    item_ids = np.array(sorted({a["item_id"] for a in given}))
    code = {int(i): n for n, i in enumerate(item_ids)}
    worker_ids = np.array(sorted({a["annotator_id"] for a in given}))
    wcode = {int(w): n for n, w in enumerate(worker_ids)}
    t, w, s, e, y = [], [], [], [], []
    for a in given:
        for span in a["values"][name]:
            t.append(code[a["item_id"]])
            w.append(wcode[a["annotator_id"]])
            s.append(span["start"])
            e.append(span["end"])
            y.append(labels_.index(span["label"]))
    aggregator = q.SpanAggregator().fit(
        [len(texts[int(i)]) for i in item_ids],
        t,
        w,
        s,
        e,
        y,
        annotated_tasks=[code[a["item_id"]] for a in given],
        annotated_workers=[wcode[a["annotator_id"]] for a in given],
        n_types=len(labels_),
    )
    by_item: dict[int, dict[str, Any]] = {
        int(i): {"label": [], "confidence": None} for i in item_ids
    }
    for record in aggregator.spans_.to_records(labels_):
        item_id = int(item_ids[record.pop("task")])
        by_item[item_id]["label"].append(record)
    for value in by_item.values():
        conf = [sp["confidence"] for sp in value["label"]]
        value["confidence"] = min(conf) if conf else None
    return {
        "kind": "spans",
        "method": "token_majority_vote_bio",
        "labels": len(given),
        "items_total": int(item_ids.size),
        "agreement": {},
        "annotators": [
            {
                "annotator": emails.get(int(u), str(u)),
                "n_answers": sum(1 for a in given if a["annotator_id"] == u),
            }
            for u in worker_ids
        ],
        "items": [{"item_id": i, **v} for i, v in list(by_item.items())[:MAX_ITEMS_LISTED]],
        "_consensus": by_item,
    }


_FIELD_REPORTS: dict[str, Callable[..., dict[str, Any]]] = {
    "categorical": _categorical_report,
    "multi_choice": _multi_choice_report,
    "spans": _spans_report,
}


# -- helpers ------------------------------------------------------------------------------


def _empty() -> dict[str, Any]:
    return {
        "method": None,
        "labels": 0,
        "items_total": 0,
        "items": [],
        "annotators": [],
        "agreement": {},
        "_consensus": {},
    }


def _round(value: float) -> float:
    return round(float(value), 6)


def _finite(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else _round(value)


def _percent(tasks: np.ndarray, workers: np.ndarray, labels: np.ndarray) -> float | None:
    """Percent agreement, or None when no item has two answers."""
    try:
        return _finite(q.percent_agreement(tasks, workers, labels))
    except InvalidInput:
        return None


def _alpha(tasks: np.ndarray, workers: np.ndarray, values: np.ndarray, level: str) -> float | None:
    """Krippendorff's alpha, or None when no item has two answers (nothing to compare)."""
    if np.bincount(tasks).max() < 2:
        return None
    try:
        return _finite(q.krippendorff_alpha(tasks, workers, values, level=level))  # type: ignore[arg-type]
    except InvalidInput:
        return None


# -- leaderboard --------------------------------------------------------------------------


def leaderboard(platform: Platform, who: Principal, project_id: int) -> dict[str, Any]:
    """Bradley-Terry ranking from pairwise fields over items that name their two models."""
    with platform.db.write() as conn:
        access = authorize_project(conn, who, project_id, Permission.QUALITY_READ)
        schema = schema_of(access.project)
        pairwise = [f.name for f in schema.fields if str(f.kind) == "pairwise"]
        if not pairwise:
            raise InvalidInput(
                "this project has no pairwise field to rank from",
                hint="leaderboards need a schema field of type 'pairwise' and items with "
                "'model_a' and 'model_b' keys",
            )
        answers = _submitted_answers(conn, platform.data_key(conn, project_id), project_id)
        models = {
            item_id: (data.get("model_a"), data.get("model_b"))
            for item_id, data in _item_data(platform, conn, who.org_id, project_id, answers).items()
        }
        audit.record_as(conn, who, "project.leaderboard", f"project:{project_id}")
    field_name = pairwise[0]
    outcome_of = {"A": 1.0, "B": 0.0, "tie": 0.5}
    battles: dict[str, int] = {}
    left, right, outcome = [], [], []
    for a in answers:
        choice = (a["values"].get(field_name) or {}).get("choice")
        model_a, model_b = models.get(a["item_id"], (None, None))
        if choice in outcome_of and isinstance(model_a, str) and isinstance(model_b, str):
            left.append(model_a)
            right.append(model_b)
            outcome.append(outcome_of[choice])
            battles[model_a] = battles.get(model_a, 0) + 1
            battles[model_b] = battles.get(model_b, 0) + 1
    if not left:
        return {"field": field_name, "battles": 0, "ranking": []}
    names = sorted(battles)
    code = {n: i for i, n in enumerate(names)}
    bt = q.BradleyTerry(ties="davidson").fit(
        np.array([code[x] for x in left]),
        np.array([code[x] for x in right]),
        np.array(outcome, dtype=float),
    )
    scores = np.asarray(bt.scores_)
    ci = np.asarray(bt.ci_)
    ranking = [
        {
            "rank": r + 1,
            "model": names[i],
            "score": _round(scores[i]),
            "ci": [_round(ci[i][0]), _round(ci[i][1])],
            "battles": battles[names[i]],
        }
        for r, i in enumerate(np.argsort(-scores))
    ]
    return {"field": field_name, "battles": len(left), "ranking": ranking}
