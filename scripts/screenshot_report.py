"""Build the HTML report of the bundled credit data and save its screenshot, docs/report.png.

    .venv/bin/python scripts/screenshot_report.py [--out docs/report.png] [--html report.html]

Uses the system Chromium (Debian's ``chromium`` package, as the tests do) through Playwright; it
never downloads a browser. The report is the one ``docs/report.md`` shows how to build:

    thresher report credit_default_scored.csv --label default --score score --by student \\
        --objective "min-cost fn=10 fp=1" --objective "max-precision recall>=0.9" --out report.html
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from thresher.examples import path as example_path
from thresher.report import build_report

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--font-render-hinting=none"]
OBJECTIVES = ["min-cost fn=10 fp=1", "max-precision recall>=0.9"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "report.png"), help="PNG to write")
    parser.add_argument("--html", help="also keep the HTML report here")
    parser.add_argument("--chromium", default=os.environ.get("THRESHER_CHROMIUM", "/usr/bin/chromium"))
    parser.add_argument("--width", type=int, default=1440, help="viewport width in CSS pixels")
    parser.add_argument("--height", type=int, help="height of the captured area (default: down to the last chart)")
    parser.add_argument("--scale", type=float, default=1.0, help="device pixel ratio (2 for a retina image)")
    args = parser.parse_args(argv)

    report = build_report(example_path(), label="default", score="score", by="student", objectives=OBJECTIVES,
                          title="Credit default: which customers to flag?")
    with tempfile.TemporaryDirectory() as folder:
        html = Path(args.html) if args.html else Path(folder) / "report.html"
        report.save(html)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": args.width, "height": args.height or 1000},
                                    device_scale_factor=args.scale)
            page.goto(html.resolve().as_uri())
            page.wait_for_selector("body[data-ready=true]")
            # show the cost-optimal point, as a reader would after clicking its chip
            page.locator("button.chip", has_text=OBJECTIVES[0]).click()
            out = Path(args.out)
            out.parent.mkdir(parents=True, exist_ok=True)
            height = args.height or int(page.evaluate(
                "document.querySelector('.charts').getBoundingClientRect().bottom + window.scrollY + 24"))
            page.screenshot(path=str(out), full_page=True, clip={"x": 0, "y": 0, "width": args.width, "height": height})
            browser.close()
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
