"""thresher's exceptions: one tree, so callers can catch exactly what they mean.

::

    ThresherError                 anything thresher raises on purpose
    ├── InputError (ValueError)   the data: missing column, NaN score, non-binary labels, ...
    ├── ParameterError (ValueError)  an argument: beta <= 0, max_fpr outside (0, 1], ...
    ├── SpecError (ValueError)    an objective or check written as text: "recall>=1.5"
    ├── InfeasibleError           a constraint no threshold meets; names the best achievable value
    ├── PolicyError (ValueError)  a malformed or inconsistent policy file
    └── GateError (ValueError)    a malformed gate file or a golden dataset that changed

Every message says what was wrong, where (column, row, field path) and how to fix it.
The CLI prints the message and exits with status 2; it never shows a traceback for these.
"""

from __future__ import annotations


class ThresherError(Exception):
    """Base class of every error thresher raises deliberately."""


class InputError(ThresherError, ValueError):
    """The data cannot be evaluated as given (column, value or shape problem)."""


class ParameterError(ThresherError, ValueError):
    """A function argument is outside its documented domain."""


class SpecError(ThresherError, ValueError):
    """A spec string (objective, check) cannot be parsed or is out of range."""


class InfeasibleError(ThresherError):
    """No threshold satisfies a constraint; the message names the best achievable value."""


class PolicyError(ThresherError, ValueError):
    """A policy file is malformed or inconsistent."""


class GateError(ThresherError, ValueError):
    """A gate file is malformed, or a golden dataset no longer matches its fingerprint."""


class MissingDependencyError(ThresherError, ImportError):
    """An optional dependency is needed for this feature; the message gives the pip command."""


def require(module: str, extra: str, feature: str):
    """Import an optional dependency, or raise with the install hint for its extra."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingDependencyError(
            f"{feature} needs the '{module}' package. Install it with: pip install 'thresher[{extra}]'"
        ) from exc
