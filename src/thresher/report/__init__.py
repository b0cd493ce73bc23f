"""Reports: one self-contained, interactive HTML file, and matplotlib figures.

>>> from thresher.report import build_report
>>> report = build_report({"y": [0, 1, 1, 0], "p": [0.2, 0.9, 0.6, 0.4]}, label="y", score="p")
>>> report.to_html().startswith("<!DOCTYPE html>")
True

The figures (``thresher.report.plots``) need matplotlib: ``pip install 'thresher[report]'``.
"""

from thresher.report.build import Report, build_report

__all__ = ["Report", "build_report"]
