"""Pure numeric kernels (numpy + numba): no I/O, no validation, no thresher imports.

Callers (the metrics layer) guarantee clean inputs: 1-D arrays of equal length, finite scores
(float32 or float64), labels as uint8 0/1, weights float64, finite and >= 0.
"""

from thresher.kernels.binned import bin_edges, binned_counts
from thresher.kernels.counts import curve_areas, exact_areas, exact_counts
from thresher.kernels.hull import upper_hull

__all__ = ["bin_edges", "binned_counts", "curve_areas", "exact_areas", "exact_counts", "upper_hull"]
