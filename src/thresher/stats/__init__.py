"""Uncertainty: confidence intervals for rates, DeLong's AUC variance and test, the stratified bootstrap.

>>> from thresher.stats import wilson, delong_auc_ci, bootstrap
>>> round(wilson(8, 10)[0], 4)
0.4902
"""

from thresher.stats.bootstrap import BootstrapResult, bootstrap, bootstrap_threshold_metrics
from thresher.stats.calibration import (
    CalibrationCheck,
    brier_score,
    calibration_check,
    expected_calibration_error,
    reliability_table,
)
from thresher.stats.delong import AUCInterval, PairedTest, delong_auc_ci, delong_test
from thresher.stats.intervals import clopper_pearson, confusion_intervals, proportion_interval, wilson

__all__ = [
    "AUCInterval",
    "BootstrapResult",
    "CalibrationCheck",
    "PairedTest",
    "bootstrap",
    "bootstrap_threshold_metrics",
    "brier_score",
    "calibration_check",
    "clopper_pearson",
    "confusion_intervals",
    "delong_auc_ci",
    "delong_test",
    "expected_calibration_error",
    "proportion_interval",
    "reliability_table",
    "wilson",
]
