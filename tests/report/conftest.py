"""Report test fixtures: the real headless Chromium (Debian's package, driven by Playwright) and policies."""

from __future__ import annotations

import os

import pytest

from thresher.examples import path as example_path

CHROMIUM = os.environ.get("THRESHER_CHROMIUM", "/usr/bin/chromium")
# No sandbox (containers run as root), no GPU, and none of Chromium's own background traffic
# (component updates, sync, first-run pings): the only request a page may cause is its own file.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
CREDIT = str(example_path())


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session (never `playwright install`: the system package is used)."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: run .ci/system-deps.sh (make test does) or "
                    "set THRESHER_CHROMIUM to a Chromium binary.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def credit_policies(tmp_path_factory):
    """An old policy (one global threshold) and a new one (per student, two tiers), as files."""
    from thresher.policy import fit_policy

    folder = tmp_path_factory.mktemp("policies")
    new = fit_policy(CREDIT, label="default", score="score", by="student", name="credit", version=2,
                     tiers={"block": "max-precision recall>=0.5", "review": "budget rate<=0.08"}).policy
    old = fit_policy(CREDIT, label="default", score="score", name="credit", version=1,
                     tiers={"block": "fixed 0.5"}).policy
    new.save(folder / "new.yaml")
    old.save(folder / "old.yaml")
    return folder / "old.yaml", folder / "new.yaml"
