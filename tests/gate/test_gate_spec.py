"""The check language: what each form means, canonical text, and the errors for bad checks."""

import pytest

from thresher.errors import SpecError
from thresher.gate.spec import AtObjective, AtPolicy, AtThreshold, compare, parse
from thresher.select.objectives import Budget, Constrained, MaxFBeta


def test_threshold_free_metrics():
    c = parse("roc_auc >= 0.90")
    assert (c.metric, c.op, c.target, c.at, c.bound, c.baseline, c.per_segment) == \
        ("roc_auc", ">=", 0.9, None, None, False, False)
    assert parse("average_precision>0.5").op == ">"
    assert parse("pr_auc <= 0.99").metric == "pr_auc"


def test_operating_points():
    assert parse("recall >= 0.8 at threshold 0.5").at == AtThreshold(0.5)
    assert parse("recall >= 0.95 at policy").at == AtPolicy(())
    assert parse("recall >= 0.9 at policy action=block,review").at == AtPolicy(("block", "review"))
    # the constraint shorthand chooses the best point for the checked metric, in the check's direction
    at = parse("precision >= 0.60 at recall>=0.90").at
    assert isinstance(at, AtObjective) and at.objective == Constrained("precision", "max", (("recall", ">=", 0.9),))
    assert parse("fpr <= 0.05 at recall >= 0.9").at.objective.sense == "min"
    assert parse("precision >= 0.5 at recall>=0.9 confidence=0.95").at.objective.confidence == 0.95
    # any objective spec works, and 'fixed' is the same as 'threshold'
    assert parse("f1 >= 0.5 at max-f1").at.objective == MaxFBeta(1.0)
    assert parse("recall >= 0.5 at budget rate<=0.02").at.objective == Budget(rate=0.02)
    assert parse("recall >= 0.5 at fixed 0.3").at == AtThreshold(0.3)


def test_bounds_baselines_and_segments():
    c = parse("recall.lower95 >= 0.93 at threshold 0.5")
    assert (c.bound, c.level) == ("lower", 0.95)
    assert parse("roc_auc.upper99 <= 0.99").level == 0.99
    assert parse("roc_auc.lower >= 0.9").level is None  # the gate's confidence
    c = parse("roc_auc vs baseline >= -0.005")
    assert c.baseline and c.target == -0.005
    c = parse("Per  Segment:  recall >= 0.90 at threshold 0.5")
    assert c.per_segment and c.metric == "recall"


def test_aliases_fbeta_and_canonical_text():
    assert parse("tpr >= 0.5 at threshold 0.5").metric == "recall"
    assert parse("f2 >= 0.5 at threshold 0.5").metric == "f2"
    assert parse("f1.0 >= 0.5 at threshold 0.5").metric == "f1"
    c = parse("per segment:   precision=>0.6 at recall>=0.9")
    assert c.spec() == "per segment: precision >= 0.6 at max-precision recall>=0.9"
    assert str(c) == "per segment: precision=>0.6 at recall>=0.9"  # shown as written
    assert parse(c.spec()).spec() == c.spec()
    assert c.measure == "precision at max-precision recall>=0.9"


@pytest.mark.parametrize("text, message", [
    ("recal >= 0.9 at threshold 0.5", "Did you mean 'recall'"),
    ("recall >= 0.9", "add 'at threshold 0.5'"),
    ("roc_auc >= 0.9 at threshold 0.5", "does not depend on a threshold"),
    ("recall >= 1.5 at threshold 0.5", "lies in [0, 1]"),
    ("mcc >= -2 at threshold 0.5", "lies in [-1, 1]"),
    ("roc_auc == 0.9", "not a check operator"),
    ("roc_auc vs baseline >= -3", "in [-1, 1]"),
    ("roc_auc.lower95 vs baseline >= 0", "drop the bound"),
    ("roc_auc.lower30 >= 0.5", "percentage in [50, 100)"),
    ("recall >= 0.9 at sometimes", "Unknown operating point"),
    ("recall >= 0.9 at threshold", "needs one number"),
    ("recall >= 0.9 at policy blocks", "after 'at policy'"),
    ("f2 >= 0.5 at recall>=0.9", "Write the objective in full"),
    ("precision >= 0.5 at max-precision recall>=1.5", "In the operating point"),
    ("per region: recall >= 0.9 at threshold 0.5", "per segment:"),
    ("roc_auc >= high", "not a number"),
    ("   ", "non-empty string"),
    ("roc_auc", "Cannot read the check"),
])
def test_bad_checks_say_what_and_how_to_fix(text, message):
    with pytest.raises(SpecError, match=None) as info:
        parse(text)
    assert message in str(info.value)


def test_compare_never_passes_undefined():
    assert compare(0.9, ">=", 0.9) and not compare(0.9, ">", 0.9)
    assert compare(0.1, "<", 0.2) and compare(0.2, "<=", 0.2)
    assert not compare(float("nan"), ">=", 0.0) and not compare(float("nan"), "<=", 1.0)
