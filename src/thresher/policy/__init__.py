"""Decision policies: the schema, fitting per segment, applying, linting and diffing. No HTTP here."""

from thresher.policy.build import from_operating_points
from thresher.policy.diff import PolicyDiff, diff_policies
from thresher.policy.fit import FitResult, fit_policy
from thresher.policy.lint import Finding, lint
from thresher.policy.policy import Policy

Policy.from_operating_points = staticmethod(from_operating_points)

__all__ = ["FitResult", "Finding", "Policy", "PolicyDiff", "diff_policies", "fit_policy", "from_operating_points",
           "lint"]
