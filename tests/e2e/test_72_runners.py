"""Runners other than pytest label their calls too (docs/runners.md): newman with recap's own reporter
(integrations/newman, installed from npm into tests/runners), Jest with supertest and Playwright's request API
with the documented recipes; each call is recorded under the item or test that made it."""
import os
import subprocess

import harness

RUNNERS = os.path.join(harness.ROOT, "tests", "runners")
BIN = os.path.join(RUNNERS, "node_modules", ".bin")


def node(*argv, env=None):
    return subprocess.run(list(argv), capture_output=True, text=True, cwd=RUNNERS, timeout=300,
                          env=dict(os.environ, **(env or {})))


def labels(r, after=0):
    r.barrier()
    return [(c["test"], c.get("phase"), c["request"]["method"], c["response"]["status"])
            for c in sorted(r.records(), key=lambda c: c["seq"]) if c["seq"] > after]


def test_newman_with_the_reporter_labels_each_request_with_its_item(db, app, recap_factory):
    r = recap_factory(app.url, args=["--database-url", db.url])
    harness.wait_http(f"{r.control}/readyz", timeout=15)
    out = node(f"{BIN}/newman", "run", "newman/collection.json", "-r", "cli,recap", "--reporter-recap-url", r.url,
               "--env-var", f"base={r.url}")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "recap: 5 requests labelled with their item" in out.stdout
    got = labels(r)
    assert got == [("Example API / Organizations / Create an organization", "call", "POST", 201),
                   ("Example API / Organizations / Read it back", "call", "GET", 200),
                   ("Example API / Campaigns / Launch / Create a campaign", "call", "POST", 201),
                   ("Example API / Campaigns / Launch / Activate it", "call", "PATCH", 200),
                   ("Example API / Health", "call", "GET", 200)], got
    # the header never reaches the app; the rows are on the item's call
    patch = next(c for c in r.records() if c["request"]["method"] == "PATCH")
    assert "x-recap-test" not in patch["request"]["headers"]
    assert {ch["table"] for tx in patch["db"]["transactions"] for ch in tx["changes"]} == {"campaigns",
                                                                                          "campaign_audit"}
    # the same collection without the reporter still runs: its calls have no label
    seen = len(r.records())
    out = node(f"{BIN}/newman", "run", "newman/collection.json", "-r", "cli", "--env-var", f"base={r.url}")
    assert out.returncode == 0, out.stdout + out.stderr
    assert [t for t, *_ in labels(r, after=seen)] == [None] * 5
    # a reporter URL that is not recap's: nothing is labelled (requests to other hosts are left alone)
    seen = len(r.records())
    out = node(f"{BIN}/newman", "run", "newman/collection.json", "-r", "cli,recap", "--reporter-recap-url",
               "http://127.0.0.1:9", "--env-var", f"base={r.url}")
    assert out.returncode == 0 and "recap: 0 requests labelled" in out.stdout, out.stdout + out.stderr
    assert [t for t, *_ in labels(r, after=seen)] == [None] * 5


def test_jest_with_supertest_and_playwright_label_each_call_with_its_test(db, app, recap_factory):
    r = recap_factory(app.url, args=["--database-url", db.url])
    harness.wait_http(f"{r.control}/readyz", timeout=15)
    out = node(f"{BIN}/jest", "--rootDir", "jest", "--ci", env={"API_BASE_URL": r.url})
    assert out.returncode == 0, out.stdout + out.stderr
    got = labels(r)
    assert got == [("jest/organizations.test.js::organizations are created and read back", "call", "POST", 201),
                   ("jest/organizations.test.js::organizations are created and read back", "call", "GET", 200),
                   ("jest/organizations.test.js::organizations café: names outside ASCII survive", "call", "GET",
                    200)], got
    seen = len(r.records())
    out = node(f"{BIN}/playwright", "test", "--config", "playwright/playwright.config.js",
               env={"API_BASE_URL": r.url})
    assert out.returncode == 0, out.stdout + out.stderr
    got = sorted(labels(r, after=seen))
    assert got == sorted([("organizations.spec.js › organizations › are created and read back", "call", "POST", 201),
                          ("organizations.spec.js › organizations › are created and read back", "call", "GET", 200),
                          ("organizations.spec.js › organizations › health", "call", "GET", 200)]), got
