"""Annotator scores a project manager can act on.

For every worker: accuracy on gold questions, accuracy estimated by a truth-inference
model, agreement with the consensus and with peers, an informativeness score, flags for
likely spammers and adversarial workers, and one readable sentence explaining the verdict.

Informativeness (0..1) measures how much a worker's answers depend on the true class: it
is the average total-variation distance between the rows of their estimated confusion
matrix (how they answer when the truth is A vs when it is B), weighted by how often they
met each class. A careful worker scores near 1; someone who clicks at random, or always
picks the same option, scores near 0 whatever their raw accuracy (always answering the
majority class can look 90% "accurate" on skewed data and still carry no information).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from labelvault.errors import InvalidInput

from ._arrays import Answers, FloatArray, IntArray, check_answers, check_gold
from ._base import CategoricalAggregator
from .agreement import annotator_agreement
from .dawid_skene import DawidSkene

SPAMMER = "likely_spammer"
ADVERSARIAL = "adversarial"
LOW_GOLD_ACCURACY = "low_gold_accuracy"
FEW_ANSWERS = "too_few_answers"


@dataclass(frozen=True)
class AnnotatorReport:
    """Per-worker arrays (index = worker code) plus flags and explanations."""

    n_answers: IntArray
    gold_accuracy: FloatArray
    n_gold: IntArray
    estimated_accuracy: FloatArray
    consensus_agreement: FloatArray
    peer_agreement: FloatArray
    informativeness: FloatArray
    confusions: FloatArray
    flags: list[list[str]]
    explanations: list[str]
    worker_names: list[Any] = field(default_factory=list)

    @property
    def spammers(self) -> IntArray:
        """Codes of workers flagged as likely spammers or adversarial."""
        return np.array(
            [i for i, f in enumerate(self.flags) if SPAMMER in f or ADVERSARIAL in f],
            dtype=np.int64,
        )

    def to_records(self) -> list[dict[str, Any]]:
        """One JSON-ready dict per worker (NaN becomes None)."""

        def clean(value: float) -> float | None:
            return None if np.isnan(value) else round(float(value), 6)

        records = []
        for i in range(self.n_answers.size):
            name = self.worker_names[i] if self.worker_names else i
            records.append(
                {
                    "worker": name,
                    "n_answers": int(self.n_answers[i]),
                    "gold_accuracy": clean(self.gold_accuracy[i]),
                    "n_gold": int(self.n_gold[i]),
                    "estimated_accuracy": clean(self.estimated_accuracy[i]),
                    "consensus_agreement": clean(self.consensus_agreement[i]),
                    "peer_agreement": clean(self.peer_agreement[i]),
                    "informativeness": clean(self.informativeness[i]),
                    "flags": list(self.flags[i]),
                    "explanation": self.explanations[i],
                }
            )
        return records


def score_annotators(
    tasks: Any,
    workers: Any,
    labels: Any,
    *,
    model: CategoricalAggregator | None = None,
    gold: Any = None,
    n_classes: int | None = None,
    n_workers: int | None = None,
    label_names: Any = None,
    worker_names: Any = None,
    min_answers: int = 10,
    spam_threshold: float = 0.2,
    min_gold: int = 5,
    min_gold_accuracy: float = 0.6,
) -> AnnotatorReport:
    """Score every worker; flag spammers, adversaries and low gold accuracy.

    ``model`` is a truth-inference model (fitted on these answers, or not yet fitted);
    DawidSkene by default. ``gold`` is {task: label} or an array with -1 for unknown.
    A worker is judged only with at least ``min_answers`` answers: "likely_spammer" when
    informativeness < ``spam_threshold``; "adversarial" when their estimated accuracy is
    below what random answering with their own label frequencies would score;
    "low_gold_accuracy" with at least ``min_gold`` gold answers below
    ``min_gold_accuracy``. ``label_names`` / ``worker_names`` (e.g. from ``encode``) make
    the explanations readable.
    """
    data = check_answers(tasks, workers, labels, n_classes=n_classes, n_workers=n_workers)
    fitted = _fitted_model(model, data)
    probas = fitted.probas_
    n_answers = data.worker_counts()
    names = [str(v) for v in label_names] if label_names is not None else None
    if names is not None and len(names) < data.n_classes:
        raise InvalidInput(
            f"label_names has {len(names)} names for {data.n_classes} classes.",
            hint="Pass encoded.label_values from encode().",
        )

    gold_acc, n_gold = _gold_accuracy(data, gold)
    consensus = fitted.labels_[data.tasks] == data.labels
    consensus_agreement = _per_worker_mean(data, consensus.astype(np.float64))
    confusions, seen = _soft_confusions(data, probas)
    informativeness = _informativeness(confusions, seen)
    estimated = fitted.skills_
    own_freq = (
        np.bincount(
            data.workers * data.n_classes + data.labels, minlength=data.n_workers * data.n_classes
        ).reshape(data.n_workers, data.n_classes)
        / np.maximum(n_answers, 1)[:, None]
    )
    class_share = seen / np.maximum(seen.sum(axis=1, keepdims=True), 1e-12)
    chance = (own_freq * class_share).sum(axis=1)

    flags: list[list[str]] = []
    explanations: list[str] = []
    for w in range(data.n_workers):
        f, text = _verdict(
            w,
            n_answers=int(n_answers[w]),
            estimated=float(estimated[w]),
            chance=float(chance[w]),
            informativeness=float(informativeness[w]),
            own_freq=own_freq[w],
            confusion=confusions[w],
            seen=seen[w],
            gold_acc=float(gold_acc[w]),
            n_gold=int(n_gold[w]),
            consensus=float(consensus_agreement[w]),
            names=names,
            min_answers=min_answers,
            spam_threshold=spam_threshold,
            min_gold=min_gold,
            min_gold_accuracy=min_gold_accuracy,
        )
        flags.append(f)
        explanations.append(text)

    return AnnotatorReport(
        n_answers=n_answers,
        gold_accuracy=gold_acc,
        n_gold=n_gold,
        estimated_accuracy=estimated,
        consensus_agreement=consensus_agreement,
        peer_agreement=annotator_agreement(
            data.tasks, data.workers, data.labels, n_workers=data.n_workers
        ),
        informativeness=informativeness,
        confusions=confusions,
        flags=flags,
        explanations=explanations,
        worker_names=list(worker_names) if worker_names is not None else [],
    )


def _fitted_model(model: CategoricalAggregator | None, data: Answers) -> CategoricalAggregator:
    model = DawidSkene() if model is None else model
    fitted = hasattr(model, "probas_")
    if fitted and (
        model.n_tasks_ != data.n_tasks
        or model.n_workers_ != data.n_workers
        or model.n_classes_ != data.n_classes
    ):
        raise InvalidInput(
            "The model was fitted on different data (task, worker or class counts differ).",
            hint="Pass an unfitted model, or one fitted on exactly these answers.",
        )
    if not fitted:
        model._fit(data)
    return model


def _per_worker_mean(data: Answers, values: FloatArray) -> FloatArray:
    total = np.bincount(data.workers, weights=values, minlength=data.n_workers)
    counts = data.worker_counts()
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, total / np.maximum(counts, 1), np.nan)


def _gold_accuracy(data: Answers, gold: Any) -> tuple[FloatArray, IntArray]:
    if gold is None:
        return np.full(data.n_workers, np.nan), np.zeros(data.n_workers, dtype=np.int64)
    codes = check_gold(gold, data.n_tasks, data.n_classes)
    truth = codes[data.tasks]
    known = truth >= 0
    hits = np.bincount(
        data.workers[known], weights=(data.labels[known] == truth[known]), minlength=data.n_workers
    )
    n_gold = np.bincount(data.workers[known], minlength=data.n_workers).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n_gold > 0, hits / np.maximum(n_gold, 1), np.nan), n_gold


def _soft_confusions(data: Answers, probas: FloatArray) -> tuple[FloatArray, FloatArray]:
    """(workers, truth, answer) confusion from the posterior, and expected class counts."""
    k = data.n_classes
    counts = data.task_by_worker_label().T @ probas  # (worker * K + answer, truth)
    cube = counts.reshape(data.n_workers, k, k).transpose(0, 2, 1)  # worker, truth, answer
    seen = cube.sum(axis=2)
    smoothed = cube + 0.01
    return smoothed / smoothed.sum(axis=2, keepdims=True), seen


def _informativeness(confusions: FloatArray, seen: FloatArray) -> FloatArray:
    """Class-weighted mean total-variation distance between confusion rows."""
    gaps = 0.5 * np.abs(confusions[:, :, None, :] - confusions[:, None, :, :]).sum(axis=3)
    weight = seen[:, :, None] * seen[:, None, :]
    k = confusions.shape[1]
    off = ~np.eye(k, dtype=bool)
    total = (weight * off).sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (gaps * weight * off).sum(axis=(1, 2)) / total, np.nan)


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _verdict(
    worker: int,
    *,
    n_answers: int,
    estimated: float,
    chance: float,
    informativeness: float,
    own_freq: FloatArray,
    confusion: FloatArray,
    seen: FloatArray,
    gold_acc: float,
    n_gold: int,
    consensus: float,
    names: list[str] | None,
    min_answers: int,
    spam_threshold: float,
    min_gold: int,
    min_gold_accuracy: float,
) -> tuple[list[str], str]:
    def label(code: int) -> str:
        return repr(names[code]) if names is not None else f"class {code}"

    if n_answers == 0:
        return [], "No answers yet."
    flags: list[str] = []
    sentences: list[str] = []
    gold_part = (
        f" Gold: {_pct(gold_acc)} right ({int(round(gold_acc * n_gold))} of {n_gold})."
        if n_gold > 0
        else ""
    )
    if n_gold >= min_gold and gold_acc < min_gold_accuracy:
        flags.append(LOW_GOLD_ACCURACY)
        right = int(round(gold_acc * n_gold))
        sentences.append(
            f"Low accuracy on gold questions: {_pct(gold_acc)} ({right} of {n_gold}), "
            f"below the {_pct(min_gold_accuracy)} bar."
        )
    if n_answers < min_answers:
        flags.append(FEW_ANSWERS)
        sentences.insert(
            0,
            f"Only {n_answers} answer{'s' if n_answers != 1 else ''}: too few to judge "
            f"(at least {min_answers} needed); agrees with the consensus on {_pct(consensus)}.",
        )
        if LOW_GOLD_ACCURACY not in flags and gold_part:
            sentences.append(gold_part.strip())
        return flags, " ".join(sentences)
    favourite = int(np.argmax(own_freq))
    if informativeness < spam_threshold:
        flags.insert(0, SPAMMER)
        if own_freq[favourite] >= 0.8:
            why = (
                f"answered {label(favourite)} on {_pct(own_freq[favourite])} of "
                f"{n_answers} items, whatever the true class"
            )
        else:
            why = (
                f"answers look unrelated to the true class: estimated accuracy "
                f"{_pct(estimated)}, about what random answering gives ({_pct(chance)})"
            )
        sentences.insert(
            0,
            f"Likely spammer: {why} (informativeness {informativeness:.2f} on a 0-1 scale). "
            "Review their work and consider excluding it.",
        )
    elif estimated < chance - 0.05:
        flags.insert(0, ADVERSARIAL)
        off = confusion * seen[:, None]
        np.fill_diagonal(off, 0.0)
        truth, answer = np.unravel_index(int(np.argmax(off)), off.shape)
        sentences.insert(
            0,
            f"Systematically contradicts the consensus: estimated accuracy {_pct(estimated)} vs "
            f"{_pct(chance)} by chance; most often answers {label(int(answer))} when the "
            f"consensus is {label(int(truth))}. Check they understood the instructions.",
        )
    if not flags:
        return flags, (
            f"No problem found: estimated accuracy {_pct(estimated)} over {n_answers} answers; "
            f"agrees with the consensus on {_pct(consensus)}.{gold_part}"
        )
    if LOW_GOLD_ACCURACY not in flags and gold_part:
        sentences.append(gold_part.strip())
    return flags, " ".join(sentences)
