"""Figures: every plot renders to a valid, non-blank PNG of the requested size (CLI and Python)."""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import thresher
from thresher.errors import InputError, ParameterError
from thresher.examples import path as example_path
from thresher.report import plots

CREDIT = str(example_path())


def assert_real_image(source, size: tuple[int, int]) -> None:
    """A readable PNG of exactly ``size`` pixels with a drawing on it (not one flat colour)."""
    image = Image.open(source)
    image.load()
    assert image.format == "PNG" and image.size == size
    pixels = np.asarray(image.convert("RGB"), dtype=np.int16)
    assert pixels.std() > 10
    colours = np.unique(pixels.reshape(-1, 3), axis=0)
    assert len(colours) > 20  # lines, fills, text: not a blank canvas
    ink = np.any(pixels < 200, axis=2).mean()
    assert 0.01 < ink < 0.6  # something is drawn, and it is not a solid block


@pytest.fixture(scope="module")
def credit_curve():
    return thresher.curve(*_credit())


def _credit():
    cols = thresher.load(CREDIT, label="default", score="score")
    return cols.y, cols.score


def plot_cli(*args) -> int:
    """The CLI entry point in-process (one subprocess test below covers the real process)."""
    from thresher.cli.main import main

    return main(["plot", *args])


def test_cli_renders_a_png_in_a_subprocess(tmp_path):
    out = tmp_path / "roc.png"
    proc = subprocess.run([sys.executable, "-m", "thresher.cli.main", "plot", "roc", CREDIT, "--label", "default",
                           "--score", "score", "--objective", "min-cost fn=10 fp=1", "--size", "800x500", "--dpi",
                           "100", "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "wrote" in proc.stderr
    assert_real_image(out, (800, 500))


@pytest.mark.parametrize("kind,extra", [
    ("pr", ["--objective", "max-precision recall>=0.9", "--threshold", "0.5"]),
    ("roc", []),
    ("threshold", ["--threshold", "0.3", "--linear"]),
    ("cost", ["--cost", "fn=10 fp=1"]),
    ("calibration", ["--bins", "12"]),
    ("distribution", ["--objective", "min-cost fn=10 fp=1", "--logit"]),
])
def test_cli_renders_each_plot_to_a_png_of_the_requested_size(tmp_path, kind, extra):
    out = tmp_path / f"{kind}.png"
    assert plot_cli(kind, CREDIT, "--label", "default", "--score", "score", "--size", "720x480", "--dpi", "100",
                    "--out", str(out), *extra) == 0
    assert_real_image(out, (720, 480))


def test_python_api_figures_and_curve_methods(credit_curve, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    point = thresher.select(credit_curve, "min-cost fn=10 fp=1")
    for kind, options in [("pr", {"points": [point, 0.5]}), ("roc", {"points": [point]}),
                          ("threshold", {"points": [point], "logit": False}), ("cost", {"cost": "fn=10 fp=1"}),
                          ("calibration", {"bins": 8}), ("distribution", {"points": [point]})]:
        fig = plots.figure(kind, credit_curve, width=640, height=420, dpi=100, **options)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100)
        buffer.seek(0)
        assert_real_image(buffer, (640, 420))
    from matplotlib.axes import Axes

    for method in ("plot_pr", "plot_roc", "plot_threshold", "plot_calibration", "plot_distribution"):
        ax = getattr(credit_curve, method)()
        assert isinstance(ax, Axes) and (ax.lines or ax.patches)
    ax = credit_curve.plot_cost("fn=10 fp=1")
    assert ax.get_ylabel().startswith("cost per case")
    # the lowest cost drawn is the cost thresher selects
    ys = ax.lines[0].get_ydata()
    assert min(ys) * (credit_curve.positives + credit_curve.negatives) == pytest.approx(point.cost, rel=1e-12)
    import matplotlib.pyplot as plt

    plt.close("all")


def test_svg_output(tmp_path):
    out = tmp_path / "distribution.svg"
    assert plot_cli("distribution", CREDIT, "--label", "default", "--score", "score", "--out", str(out)) == 0
    text = out.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text


def test_plot_errors_say_what_to_do(credit_curve, tmp_path, capsys):
    with pytest.raises(InputError, match="probabilities"):
        plots.plot_calibration(thresher.curve([0, 1, 1], [-2.0, 0.5, 3.0]))
    with pytest.raises(ParameterError, match="needs the costs"):
        plots.plot_cost(credit_curve, None)
    with pytest.raises(ParameterError, match="Known plots"):
        plots.figure("bar", credit_curve)
    with pytest.raises(ParameterError, match="take a Curve"):
        plots.plot_pr([0, 1])
    common = [CREDIT, "--label", "default", "--score", "score"]
    assert plot_cli("cost", *common, "--out", str(tmp_path / "c.jpg")) == 2
    assert "--out must end in .png, .svg, .pdf" in capsys.readouterr().err
    assert plot_cli("cost", *common, "--out", str(tmp_path / "c.png")) == 2
    assert "needs costs: pass --cost" in capsys.readouterr().err
    assert plot_cli("pr", *common, "--size", "big", "--out", str(tmp_path / "c.png")) == 2
    assert "WIDTHxHEIGHT" in capsys.readouterr().err
