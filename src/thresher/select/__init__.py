"""Choosing an operating point: objectives as small objects, selection overall and per segment."""

from thresher.select.objectives import (
    Budget,
    Constrained,
    Fixed,
    MaxFBeta,
    MinCost,
    Objective,
    Youden,
    parse,
)
from thresher.select.operating_point import OperatingPoint, Step
from thresher.select.select import SegmentedSelection, choose, select, select_by_segment, select_on_curve

__all__ = ["Budget", "Constrained", "Fixed", "MaxFBeta", "MinCost", "Objective", "OperatingPoint",
           "SegmentedSelection", "Step", "Youden", "choose", "parse", "select", "select_by_segment",
           "select_on_curve"]
