"""A scikit-learn bridge: apply a policy to any fitted classifier's ``predict_proba``."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from thresher.errors import InputError, require
from thresher.policy.policy import Policy

_sklearn_base = require("sklearn.base", "sklearn", "The scikit-learn bridge")


class PolicyClassifier(_sklearn_base.BaseEstimator):
    """Wrap a fitted classifier so ``predict`` returns the policy's action per row.

    The score is ``predict_proba(X)[:, positive column]``; segment fields are read from ``X`` (a
    DataFrame) by name. ``fit`` fits the wrapped estimator (so the wrapper can sit in a Pipeline);
    ``decide`` returns the full decision table.

    >>> from sklearn.linear_model import LogisticRegression
    >>> import numpy as np
    >>> X, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1])
    >>> policy = Policy.from_dict({"name": "p", "version": 1, "score": "score", "actions": ["block", "allow"],
    ...                            "rules": [{"name": "default", "tiers": [{"action": "block", "threshold": 0.5}]}]})
    >>> PolicyClassifier(LogisticRegression(), policy).fit(X, y).predict(np.array([[0.0], [3.0]])).tolist()
    ['allow', 'block']
    """

    def __init__(self, estimator=None, policy: Policy | None = None, pos_label=1):
        self.estimator = estimator
        self.policy = policy
        self.pos_label = pos_label

    def fit(self, X, y, **fit_params):
        self.estimator.fit(X, y, **fit_params)
        return self

    def _scores(self, X) -> np.ndarray:
        proba = self.estimator.predict_proba(X)
        classes = list(getattr(self.estimator, "classes_", [0, 1]))
        if self.pos_label not in classes:
            raise InputError(f"pos_label {self.pos_label!r} is not among the estimator's classes {classes}.")
        return np.asarray(proba[:, classes.index(self.pos_label)], dtype=np.float64)

    def decide(self, X) -> pa.Table:
        columns = {self.policy.score: self._scores(X)}
        for name in self.policy.segments:
            try:
                columns[name] = pa.array(np.asarray(X[name]))
            except (KeyError, IndexError, TypeError, ValueError):
                raise InputError(f"The policy matches on segment field '{name}', so X must be a DataFrame with a "
                                 f"'{name}' column.") from None
        return self.policy.decide_table(pa.table(columns))

    def predict(self, X) -> np.ndarray:
        return self.decide(X).column("action").to_numpy(zero_copy_only=False).astype(object)

    def predict_proba(self, X) -> np.ndarray:
        return self.estimator.predict_proba(X)
