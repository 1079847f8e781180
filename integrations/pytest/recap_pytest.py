"""pytest plugin for recap: label every call with the running test, and fail a
test with what `recap verify` finds in its calls.

One module, standard library only: copy it next to your conftest.py (or put
integrations/pytest on PYTHONPATH) and enable it:

    pytest -p recap_pytest --recap-control http://127.0.0.1:9090 [--recap-specs specs/]

Your tests keep talking to the API through recap (their base URL is recap's
listener); nothing in them changes.

- Before each test: PUT /test with the test's node id, so every call the test
  makes is recorded with it (and shows under it in JUnit reports).
- After each test (--recap-specs, or --recap-barrier): POST /barrier, which
  returns once every call the test made is in the capture with its row
  changes.
- With --recap-specs: GET /calls?test=<node id>, run `recap verify` on them,
  and fail the test with every finding (spec file:line:col, the call,
  expected and actual).

Options (or environment): --recap-control URL (RECAP_CONTROL_URL),
--recap-token TOKEN (RECAP_CONTROL_TOKEN), --recap-specs DIR (RECAP_SPECS),
--recap-bin PATH (RECAP_BIN, default `recap` on PATH), --recap-barrier.
"""
import json
import os
import subprocess
import tempfile
import urllib.error
import urllib.parse
import urllib.request

import pytest


def pytest_addoption(parser):
    g = parser.getgroup("recap")
    g.addoption("--recap-control", default=os.environ.get("RECAP_CONTROL_URL"),
                help="recap's control API, e.g. http://127.0.0.1:9090 (env RECAP_CONTROL_URL)")
    g.addoption("--recap-token", default=os.environ.get("RECAP_CONTROL_TOKEN"),
                help="bearer token of the control API (env RECAP_CONTROL_TOKEN)")
    g.addoption("--recap-specs", default=os.environ.get("RECAP_SPECS"),
                help="verify each test's calls against these specs and fail the test on findings")
    g.addoption("--recap-bin", default=os.environ.get("RECAP_BIN", "recap"), help="the recap binary")
    g.addoption("--recap-barrier", action="store_true",
                help="after each test, wait until its calls are recorded (implied by --recap-specs)")


class _Recap:
    def __init__(self, config):
        self.control = config.getoption("recap_control").rstrip("/")
        self.token = config.getoption("recap_token")
        self.specs = config.getoption("recap_specs")
        self.bin = config.getoption("recap_bin")
        self.barrier = config.getoption("recap_barrier") or bool(self.specs)

    def request(self, method, path, body=None, timeout=60):
        req = urllib.request.Request(self.control + path, data=body, method=method)
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as res:
                return res.status, res.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()
        except OSError as e:  # recap is not there: say so once, in the test's report
            raise RuntimeError(f"recap control API {self.control}: {e}") from None

    def set_test(self, name):
        status, body = self.request("PUT", "/test", (name or "").encode())
        if status != 200:
            raise RuntimeError(f"recap PUT /test answered {status}: {body.decode(errors='replace').strip()}")

    def wait_recorded(self):
        status, body = self.request("POST", "/barrier?timeout_ms=30000")
        if status != 200:
            raise RuntimeError(f"recap POST /barrier answered {status}: {body.decode(errors='replace').strip()}")

    def findings(self, nodeid):
        """The verifier's findings for the calls recorded under nodeid, as lines (empty: all passed)."""
        status, body = self.request("GET", "/calls?test=" + urllib.parse.quote(nodeid, safe=""))
        if status != 200:
            raise RuntimeError(f"recap GET /calls answered {status}")
        if not body.strip():
            return []
        with tempfile.TemporaryDirectory(prefix="recap-pytest-") as d:
            cap, report = os.path.join(d, "calls.jsonl"), os.path.join(d, "report.json")
            with open(cap, "wb") as f:
                f.write(json.dumps({"type": "header", "recap": 1, "proxy_version": "control-api"}).encode() + b"\n")
                f.write(body if body.endswith(b"\n") else body + b"\n")
            out = subprocess.run([self.bin, "verify", cap, "--specs", self.specs, "--json", report,
                                  "--color", "never"], capture_output=True, text=True)
            if out.returncode == 2 or not os.path.exists(report):
                return [f"recap verify could not run: {out.stderr.strip()}"]
            with open(report) as f:
                results = json.load(f)["results"]
        return [finding["line"] for c in results for finding in c.get("findings", [])]


def pytest_configure(config):
    if config.getoption("recap_control"):
        config._recap = _Recap(config)


def pytest_unconfigure(config):
    r = getattr(config, "_recap", None)
    if r is not None:
        try:
            r.set_test(None)
        except RuntimeError:
            pass


def pytest_runtest_setup(item):
    r = getattr(item.config, "_recap", None)
    if r is not None:
        r.set_test(item.nodeid)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    r = getattr(item.config, "_recap", None)
    if r is None or call.when != "call":
        return
    report = outcome.get_result()
    if not r.barrier:
        return
    r.wait_recorded()
    if not r.specs:
        return
    found = r.findings(item.nodeid)
    if found and report.passed:
        report.outcome = "failed"
        report.longrepr = "recap verify found:\n" + "\n".join(found)
    elif found:
        report.sections.append(("recap verify", "\n".join(found)))
