"""thresher: turn a classifier's scores into decisions a team can defend.

model score -> threshold policy -> confusion matrix -> precision/recall trade-off -> decision

>>> import thresher
>>> c = thresher.curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
>>> c.at(0.4).precision
0.5
"""

from thresher.data import Columns, load
from thresher.errors import (
    GateError,
    InfeasibleError,
    InputError,
    ParameterError,
    PolicyError,
    SpecError,
    ThresherError,
)
from thresher.metrics import (
    BinnedCounts,
    Confusion,
    Curve,
    average_precision,
    binned_curve,
    confusion,
    curve,
    pr_auc,
    roc_auc,
)
from thresher.metrics.evaluate import Evaluation, Summary, evaluate
from thresher.select import (
    Budget,
    Constrained,
    Fixed,
    MaxFBeta,
    MinCost,
    Objective,
    OperatingPoint,
    SegmentedSelection,
    Youden,
    select,
    select_by_segment,
)

__version__ = "0.1.0"

__all__ = [
    "BinnedCounts",
    "Budget",
    "Columns",
    "Constrained",
    "Confusion",
    "Curve",
    "Evaluation",
    "Fixed",
    "GateError",
    "InfeasibleError",
    "InputError",
    "MaxFBeta",
    "MinCost",
    "Objective",
    "OperatingPoint",
    "ParameterError",
    "PolicyError",
    "SegmentedSelection",
    "SpecError",
    "Summary",
    "ThresherError",
    "Youden",
    "average_precision",
    "binned_curve",
    "confusion",
    "curve",
    "evaluate",
    "load",
    "pr_auc",
    "roc_auc",
    "select",
    "select_by_segment",
]
