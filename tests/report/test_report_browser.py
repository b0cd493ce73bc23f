"""The HTML report in a real headless Chromium: the slider shows exactly what thresher computes, and
the page makes no network request.

The report is written by the real CLI in a subprocess and opened from disk (file://).
"""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from thresher.data.load import load
from thresher.examples import path as example_path
from thresher.metrics.curve import Curve
from thresher.policy import Policy, diff_policies
from thresher.select import select_by_segment

CREDIT = str(example_path())
OBJECTIVES = ["min-cost fn=10 fp=1", "max-precision recall>=0.9"]
RATIOS = ("precision", "recall", "f1", "specificity", "fpr", "npv", "accuracy", "mcc", "alert_rate")


@pytest.fixture(scope="module")
def credit_report(tmp_path_factory, credit_policies):
    old, new = credit_policies
    out = tmp_path_factory.mktemp("report") / "credit report.html"
    args = [sys.executable, "-m", "thresher.cli.main", "report", CREDIT, "--label", "default", "--score", "score",
            "--by", "student", "--policy", str(new), "--policy-old", str(old), "--out", str(out)]
    for spec in OBJECTIVES:
        args += ["--objective", spec]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "wrote" in proc.stderr and out.exists()
    return out


@pytest.fixture(scope="module")
def credit_columns():
    return load(CREDIT, label="default", score="score", by="student")


class Opened:
    """A page with every request and every error it caused recorded."""

    def __init__(self, browser, path):
        self.context = browser.new_context(viewport={"width": 1440, "height": 1000})
        self.requests: list[str] = []
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.context.on("request", lambda r: self.requests.append(r.url))
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on("console", lambda m: self.errors.append(f"console {m.type}: {m.text}")
                     if m.type in ("error", "warning") else None)
        self.url = path.as_uri()
        self.page.goto(self.url)
        self.page.wait_for_selector("body[data-ready=true]", timeout=10_000)

    def _route(self, route):
        url = route.request.url
        if url.startswith(("file://", "data:")):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def readout(self) -> dict[str, tuple[float, str]]:
        """Every number of the operating point panel: metric -> (exact value, text shown)."""
        rows = self.page.eval_on_selector_all(
            "[data-metric]", "els => els.map(e => [e.dataset.metric, e.dataset.value, e.textContent])")
        return {k: (float(v), text) for k, v, text in rows}

    def slide_to(self, position: int) -> dict:
        self.page.eval_on_selector("#threshold-slider", """(el, v) => {
            el.value = String(v); el.dispatchEvent(new Event("input", {bubbles: true})); }""", position)
        return self.readout()

    def slider_max(self) -> int:
        return int(self.page.get_attribute("#threshold-slider", "max"))

    def close(self):
        self.context.close()


@pytest.fixture
def opened(browser, credit_report):
    page = Opened(browser, credit_report)
    yield page
    assert page.errors == [], page.errors
    page.close()


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def assert_exact(shown: dict, curve: Curve, costs=(10.0, 1.0)) -> float:
    """The panel equals thresher's confusion matrix at the threshold it shows, bit for bit."""
    t = shown["threshold"][0]
    c = curve.at(t)
    for k in ("tp", "fp", "tn", "fn"):
        assert shown[k][0] == getattr(c, k), (k, t)
        assert abs(float(shown[k][1].replace(",", "")) - getattr(c, k)) <= 0.005  # weights show 2 decimals
    for k in RATIOS:
        assert same(shown[k][0], float(c.metric(k))), (k, t, shown[k][0], c.metric(k))
    assert shown["alerts"][0] == c.tp + c.fp
    assert shown["cost"][0] == costs[0] * c.fn + costs[1] * c.fp
    # the text is the value, rounded for reading
    for k in ("precision", "recall", "f1", "specificity"):
        value, text = shown[k]
        assert text == "undefined" if math.isnan(value) else abs(float(text) - value) <= 0.0005 + 1e-12
    return t


def test_the_slider_shows_exactly_what_thresher_computes(opened, credit_columns):
    curve = Curve.from_columns(credit_columns)
    top = opened.slider_max()
    assert 500 < top + 1 <= len(curve) + 1  # thinned to about --max-points, never more than every score
    seen = set()
    for position in (0, 1, top // 7, top // 3, top // 2, (2 * top) // 3, top - 1, top):
        seen.add(assert_exact(opened.slide_to(position), curve))
    assert len(seen) == 8
    # the ends: the lowest threshold flags everything, the highest position flags nothing
    everything, nothing = opened.slide_to(0), opened.slide_to(top)
    assert everything["tp"][0] == curve.positives and everything["fp"][0] == curve.negatives
    assert nothing["tp"][0] == 0 and nothing["fp"][0] == 0 and nothing["precision"][1] == "undefined"
    # the keyboard moves one curve point at a time
    opened.slide_to(top // 2)
    before = opened.readout()["threshold"][0]
    opened.page.focus("#threshold-slider")
    for _ in range(3):
        opened.page.keyboard.press("ArrowRight")
    after = assert_exact(opened.readout(), curve)
    assert after > before


def test_jumping_to_marks_shows_the_selected_operating_points(opened, credit_columns):
    for view, rows in [("all", None), ("yes", None)]:
        if view != "all":
            opened.page.click(f"button.pill[data-view='segment:{view}']")
        for spec in OBJECTIVES:
            selection = select_by_segment(credit_columns, spec, by="student")
            point = selection.overall if view == "all" else selection.segments[view]
            opened.page.locator("button.chip", has_text=spec).click()
            shown = opened.readout()
            for k in ("tp", "fp", "tn", "fn"):
                assert shown[k][0] == getattr(point.confusion, k), (view, spec, k)
            assert shown["threshold"][0] == point.threshold
            assert "active" in opened.page.locator("button.chip", has_text=spec).get_attribute("class")


def test_a_segment_view_shows_that_segments_exact_counts(opened, credit_columns):
    opened.page.click("button.pill[data-view='segment:yes']")
    assert opened.page.text_content(".panel .badge") == "yes"
    rows = dict(credit_columns.segments.groups())["yes"]
    curve = Curve.from_columns(credit_columns.take(rows))
    top = opened.slider_max()
    for position in (0, top // 4, top // 2, top):
        assert_exact(opened.slide_to(position), curve)
    # the KPIs follow the view
    assert "2,944" in opened.page.text_content(".kpis")


def test_pointing_at_a_chart_moves_the_operating_point(opened, credit_columns):
    curve = Curve.from_columns(credit_columns)
    opened.slide_to(0)
    for chart in range(3):  # PR, ROC, metrics by threshold
        overlay = opened.page.locator(".chart-card .overlay").nth(chart)
        box = overlay.bounding_box()
        before = opened.readout()["threshold"][0]
        opened.page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.4)
        t = assert_exact(opened.readout(), curve)
        assert t != before
        assert overlay.locator("xpath=../..").locator(".tip").is_visible()  # the tooltip of that chart
    # every chart draws the cursor and the marks
    assert opened.page.locator(".chart-card").count() == 6  # PR, ROC, threshold, cost, distribution, calibration
    assert opened.page.locator(".marks .mark").count() >= 10


def test_the_policy_diff_matches_diff_policies(opened, credit_policies):
    old, new = (Policy.load(p) for p in credit_policies)
    impact = diff_policies(old, new, CREDIT, label="default", costs=(10.0, 1.0)).impact
    assert opened.page.text_content("[data-diff=flipped]") == f"{impact.flipped:,}"
    text = opened.page.text_content(".diff")
    assert "credit v1" in text and "credit v2" in text
    for metric in ("precision", "recall", "alerts", "cost"):
        row = opened.page.text_content(f"tr[data-delta={metric}]")
        d = impact.deltas[metric]
        assert (f"{d['delta']:+.4f}" if metric in ("precision", "recall") else f"{round(d['delta']):+,}") in row
    # the policy tiers of the segment's rule are marked on its curve, and the slider can jump there
    opened.page.click("button.pill[data-view='segment:no']")
    tier = new.rules[[r.name for r in new.rules].index("student=no")].tiers[0]
    opened.page.locator("button.chip", has_text=f"{tier.action} \u2265 {tier.threshold:.6g}").click()
    cols = load(CREDIT, label="default", score="score", by="student")
    curve = Curve.from_columns(cols.take(dict(cols.segments.groups())["no"]))
    shown = opened.readout()
    assert shown["tp"][0] == curve.at(tier.threshold).tp and shown["fp"][0] == curve.at(tier.threshold).fp


def test_the_page_makes_no_network_request(opened):
    # use everything interactive: views, marks, slider, charts, the threshold box
    for pill in opened.page.locator("button.pill").all():
        pill.click()
    for chip in opened.page.locator("button.chip").all():
        chip.click()
    opened.slide_to(3)
    opened.page.locator(".chart-card .overlay").first.hover()
    opened.page.fill("#threshold-input", "0.2")
    opened.page.press("#threshold-input", "Enter")
    opened.page.locator("tr[data-view]").last.click()
    opened.page.wait_for_timeout(200)
    assert opened.requests == [opened.url], opened.requests
    assert opened.blocked == []


def test_the_content_security_policy_blocks_any_request(opened):
    # even script in the page cannot reach the network: the CSP refuses before a request is sent
    attempt = opened.page.evaluate("""async () => {
        const violations = [];
        document.addEventListener("securitypolicyviolation", (e) => violations.push(e.blockedURI));
        let fetched = "sent";
        try { await fetch("https://example.com/beacon"); } catch (e) { fetched = "blocked"; }
        const img = new Image(); img.src = "https://example.com/pixel.png";
        const css = document.createElement("link"); css.rel = "stylesheet"; css.href = "https://example.com/x.css";
        document.head.appendChild(css);
        await new Promise((r) => setTimeout(r, 300));
        return {fetched, violations};
    }""")
    assert attempt["fetched"] == "blocked"
    assert sorted(attempt["violations"]) == ["https://example.com/beacon", "https://example.com/pixel.png",
                                             "https://example.com/x.css"]
    assert opened.blocked == []  # nothing reached the network layer (where the test's route would abort it)
    opened.errors[:] = [e for e in opened.errors if "Content Security Policy" not in e and "Failed to fetch" not in e]


def test_hostile_names_are_shown_as_text(browser, tmp_path):
    from thresher.report import build_report

    rng = np.random.default_rng(1)
    n = 400
    evil = "</script><script>window.pwned=1</script><img src=x onerror=window.pwned=2>"
    data = {"y": rng.integers(0, 2, n), "p": rng.random(n), "g": np.where(rng.random(n) < 0.5, evil, "a & b")}
    path = build_report(data, label="y", score="p", by="g", title=evil).save(tmp_path / "evil.html")
    page = Opened(browser, path)
    try:
        assert page.page.evaluate("window.pwned") is None
        assert evil in page.page.text_content(".views")
        assert page.page.text_content("h1") == evil
        assert page.errors == [] and page.requests == [page.url]
    finally:
        page.close()


def _edge_cases():
    rng = np.random.default_rng(11)
    n = 3000
    y = rng.integers(0, 2, n)
    return {
        "one class": ({"y": [0, 0, 0, 0], "p": [0.1, 0.2, 0.3, 0.4]}, {}),
        "one score": ({"y": [0, 1, 0, 1, 1], "p": [0.5] * 5}, {"objectives": ["youden"], "cost": "fn=2 fp=1"}),
        "unbounded scores": ({"y": y, "p": rng.normal(size=n) * 1e5 + y * 5e4}, {"objectives": ["fixed 0"]}),
        "weighted float32": ({"y": y, "p": rng.random(n).astype(np.float32), "w": rng.random(n) + 0.1},
                             {"weight": "w", "objectives": ["fixed 0.3", "budget rate<=0.1"], "cost": "fn=3 fp=1"}),
    }


@pytest.mark.parametrize("case", list(_edge_cases()))
def test_degenerate_inputs_render_and_stay_exact(browser, tmp_path, case):
    from thresher.report import build_report

    data, options = _edge_cases()[case]
    report = build_report(data, label="y", score="p", **options)
    page = Opened(browser, report.save(tmp_path / "edge.html"))
    try:
        weight = np.asarray(data["w"]) if "w" in data else None
        curve = Curve.from_scores(np.asarray(data["y"]), np.asarray(data["p"]), sample_weight=weight)
        costs = (report.document["cost"] or {"fn": 0.0, "fp": 0.0})
        top = page.slider_max()
        for position in sorted({0, top // 3, top // 2, top}):
            shown = page.slide_to(position)
            if report.document["cost"] is None:
                shown["cost"] = (costs["fn"] * curve.at(shown["threshold"][0]).fn, "")
            assert_exact(shown, curve, (costs["fn"], costs["fp"]))
        for chip in page.page.locator("button.chip").all():
            chip.click()
            shown = page.readout()
            mark = next(m for m in report.document["views"][0]["marks"] if m["label"] in chip.text_content())
            assert (shown["tp"][0], shown["fp"][0]) == (mark["tp"], mark["fp"])
        assert page.errors == [] and page.requests == [page.url]
    finally:
        page.close()
