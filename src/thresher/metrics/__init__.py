"""Metrics: the Curve and Confusion objects and the array-first functions."""

from thresher.metrics.binned import BinnedCounts
from thresher.metrics.confusion import Confusion
from thresher.metrics.curve import Curve
from thresher.metrics.functions import average_precision, binned_curve, confusion, curve, pr_auc, roc_auc

__all__ = ["BinnedCounts", "Confusion", "Curve", "average_precision", "binned_curve", "confusion", "curve",
           "pr_auc", "roc_auc"]
