"""labelvault.quality: truth inference, agreement, annotator scores and rankings.

Pure NumPy/SciPy. Inputs are equal-length 1-D arrays of integer codes (one entry per
answer); ``encode`` turns any values into codes and back. Models follow the
scikit-learn style: parameters in the constructor, ``fit(...)``, results in attributes
ending with ``_``.
"""

from .agreement import (
    annotator_agreement,
    cohen_kappa,
    fleiss_kappa,
    item_agreement,
    krippendorff_alpha,
    percent_agreement,
)
from .auto import AutoAggregator, auto_aggregate
from .dawid_skene import DawidSkene, OneCoinDawidSkene
from .encoding import Encoded, encode, encode_items
from .glad import GLAD
from .mace import MACE
from .majority_vote import MajorityVote, WeightedMajorityVote
from .numeric import BiasCorrectedMean, MeanAggregator, MedianAggregator
from .pairwise import BradleyTerry, Elo
from .scoring import AnnotatorReport, score_annotators
from .spans import SpanAggregator, Spans, aggregate_spans
from .wawa import Wawa

__all__ = [
    "AnnotatorReport",
    "AutoAggregator",
    "BiasCorrectedMean",
    "BradleyTerry",
    "DawidSkene",
    "Elo",
    "Encoded",
    "GLAD",
    "MACE",
    "MajorityVote",
    "MeanAggregator",
    "MedianAggregator",
    "OneCoinDawidSkene",
    "SpanAggregator",
    "Spans",
    "Wawa",
    "WeightedMajorityVote",
    "aggregate_spans",
    "annotator_agreement",
    "auto_aggregate",
    "cohen_kappa",
    "encode",
    "encode_items",
    "fleiss_kappa",
    "item_agreement",
    "krippendorff_alpha",
    "percent_agreement",
    "score_annotators",
]
