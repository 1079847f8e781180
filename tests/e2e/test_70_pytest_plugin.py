"""The pytest plugin (integrations/pytest/recap_pytest.py) on a small suite
against the example API through recap: every call carries its test's node
id, and the deliberately broken test fails with the verifier's finding."""
import json
import os
import subprocess
import xml.etree.ElementTree as ET

import harness

SUITE = os.path.join(harness.ROOT, "tests", "plugin_suite")


def test_the_plugin_labels_calls_and_fails_the_broken_test(pg, app, recap_factory, tmp_path):
    pg.psql("app", "DROP PUBLICATION IF EXISTS recap; CREATE PUBLICATION recap FOR ALL TABLES;")
    try:
        r = recap_factory(app.url, args=["--database-url", pg.url])
        harness.wait_http(f"{r.control}/readyz", timeout=15)
        junit = tmp_path / "junit.xml"
        env = dict(os.environ, API_BASE_URL=r.url,
                   PYTHONPATH=os.path.join(harness.ROOT, "integrations", "pytest"))
        out = subprocess.run(["/usr/bin/python3", "-m", "pytest", "-p", "recap_pytest", "-p", "no:cacheprovider",
                              "-q", "--rootdir", SUITE, SUITE, "--recap-control", r.control,
                              "--recap-specs", os.path.join(SUITE, "specs"), "--recap-bin", harness.RECAP,
                              f"--junitxml={junit}"],
                             capture_output=True, text=True, cwd=SUITE, env=env, timeout=300)
        assert out.returncode == 1, out.stdout + out.stderr  # one test failed, none errored
        assert "1 failed, 2 passed" in out.stdout, out.stdout

        # the capture: every call under the node id of the test that made it
        calls = r.records()
        by_test = {}
        for c in calls:
            by_test.setdefault(c["test"], []).append(f"{c['request']['method']} {c['response']['status']}")
        assert by_test == {
            "test_suite.py::test_create_organization": ["POST 201"],
            "test_suite.py::test_read_organization": ["POST 201", "GET 200"],
            "test_suite.py::test_pause_changes_nothing": ["POST 201", "POST 201", "PATCH 200", "POST 200"],
        }

        # the JUnit XML: the broken test failed with the finding, named by its test
        cases = {c.get("name"): c for c in ET.parse(junit).getroot().iter("testcase")}
        assert set(cases) == {"test_create_organization", "test_read_organization", "test_pause_changes_nothing"}
        failure = cases["test_pause_changes_nothing"].find("failure")
        assert failure is not None
        text = failure.get("message", "") + (failure.text or "")
        assert "specs/suite.yaml:35:11: call #" in text
        assert "POST /api/v1/organizations/" in text and "(test test_suite.py::test_pause_changes_nothing)" in text
        assert "db: expected no row changes, got 1 updated in public.campaigns" in text
        assert all(cases[n].find("failure") is None for n in ("test_create_organization", "test_read_organization"))
        # the label is cleared when the suite ends
        assert json.loads(r.control_request("GET", "/test")[1]) == {"test": None}
        # recap verify's own JUnit XML groups the calls under the same test ids
        assert r.stop() == 0
        rj = tmp_path / "recap-junit.xml"
        v = subprocess.run([harness.RECAP, "verify", r.capture, "--specs", os.path.join(SUITE, "specs"),
                            "--junit", str(rj)], capture_output=True, text=True, timeout=60)
        assert v.returncode == 1, v.stdout + v.stderr
        suites = {s.get("name"): s for s in ET.parse(rj).getroot()}
        assert {n: int(s.get("tests")) for n, s in suites.items()} == {
            "test_suite.py::test_create_organization": 1, "test_suite.py::test_read_organization": 2,
            "test_suite.py::test_pause_changes_nothing": 4}
        assert suites["test_suite.py::test_pause_changes_nothing"].get("failures") == "1"
    finally:
        pg.psql("app", "DROP PUBLICATION IF EXISTS recap")


XDIST_SUITE = os.path.join(harness.ROOT, "tests", "plugin_xdist")


def run_plugin(suite, base_url, *args, log=None):
    env = dict(os.environ, API_BASE_URL=base_url, PYTHONPATH=os.path.join(harness.ROOT, "integrations", "pytest"))
    if log:
        env["LABEL_LOG"] = str(log)
    return subprocess.run(["/usr/bin/python3", "-m", "pytest", "-p", "recap_pytest", "-p", "no:cacheprovider",
                           "-q", "--rootdir", suite, suite, *args], capture_output=True, text=True, cwd=suite,
                          env=env, timeout=300)


def test_under_xdist_every_call_carries_the_test_and_phase_that_made_it(app, recap_factory, tmp_path):
    r = recap_factory(app.url)
    log = tmp_path / "sent.jsonl"
    out = run_plugin(XDIST_SUITE, r.url, "-n", "4", "--recap-control", r.control, "--recap-url", r.url, log=log)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "40 passed" in out.stdout and "recap: 168 calls of 40 tests recorded" in out.stdout, out.stdout
    sent = {s["id"]: (s["test"], s["phase"]) for s in map(json.loads, log.read_text().splitlines())}
    got = {c["id"]: (c["test"], c.get("phase")) for c in r.records()}
    assert len(sent) == 168 and got == sent  # every call under the test and phase that sent it
    assert {phase for _, phase in sent.values()} == {"setup", "call", "teardown"}


def test_the_plugin_says_what_it_could_not_check(app, recap_factory, tmp_path):
    r = recap_factory(app.url)
    # the suite pointed at the app, not at recap: tests pass, nothing was recorded, and the session says so
    args = ["--recap-control", r.control, "--recap-url", r.url]
    out = run_plugin(XDIST_SUITE, app.url, *args, "-n", "2", log=tmp_path / "a.jsonl")
    assert out.returncode == 0 and "recap: 40 tests ran and recap recorded none of their calls" in out.stdout
    out = run_plugin(XDIST_SUITE, app.url, *args, "--recap-require-calls", log=tmp_path / "b.jsonl")
    assert out.returncode == 1 and "recorded none of their calls" in out.stdout, out.stdout
    # a recap binary that is missing, a control API that is not there: usage errors, no INTERNALERROR
    out = run_plugin(XDIST_SUITE, r.url, *args, "--recap-specs", str(tmp_path), "--recap-bin", "/nonexistent/recap")
    assert out.returncode == 4 and "INTERNALERROR" not in out.stdout + out.stderr
    assert "recap: the recap binary '/nonexistent/recap' is not found" in out.stderr
    down = harness.free_port()
    out = run_plugin(XDIST_SUITE, r.url, "--recap-control", f"http://127.0.0.1:{down}")
    assert out.returncode == 4 and "INTERNALERROR" not in out.stdout + out.stderr
    assert f"recap: recap control API http://127.0.0.1:{down}" in out.stderr


def test_a_call_in_teardown_that_breaks_a_spec_fails_the_teardown(pg, app, recap_factory):
    pg.psql("app", "DROP PUBLICATION IF EXISTS recap; CREATE PUBLICATION recap FOR ALL TABLES;")
    r = recap_factory(app.url, args=["--database-url", pg.url])
    harness.wait_http(f"{r.control}/readyz", timeout=15)
    out = run_plugin(os.path.join(harness.ROOT, "tests", "plugin_teardown"), r.url, "--recap-control", r.control,
                     "--recap-url", r.url, "--recap-specs", os.path.join(harness.ROOT, "specs"),
                     "--recap-bin", harness.RECAP)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "1 passed, 1 error" in out.stdout, out.stdout
    assert "ERROR at teardown of test_reads_its_organization" in out.stdout
    assert "status: expected 201, got 409" in out.stdout
    assert {c.get("phase") for c in r.records()} == {"setup", "call", "teardown"}
    pg.psql("app", "DROP PUBLICATION IF EXISTS recap")


def test_the_recap_fixture_checks_row_changes_beside_the_test(db, recap_factory):
    suite = os.path.join(harness.ROOT, "tests", "plugin_fixture")
    for bugs, code in (((), 0), (("unexpected_table",), 1)):
        app = harness.App(db.url, env={"RECAP_APP_BUG": ",".join(bugs)}).start()
        try:
            r = recap_factory(app.url, args=["--database-url", db.url])
            harness.wait_http(f"{r.control}/readyz", timeout=15)
            out = run_plugin(suite, r.url, "--recap-control", r.control, "--recap-url", r.url,
                             "--recap-bin", harness.RECAP)
            assert out.returncode == code, out.stdout + out.stderr
        finally:
            app.stop()
    # the app writes an event_log row too: the spec language's own message, at the expectation's line
    assert "recap.expect found:" in out.stdout
    assert ("test_inline.py:14 (recap.expect):1:" in out.stdout and
            "db: unexpected changes to public.event_log: 1 inserted (the spec does not name it; strict)"
            in out.stdout), out.stdout


def test_leaks_and_order_dependence_on_the_test_that_made_them(db, app, recap_factory):
    suite = os.path.join(harness.ROOT, "tests", "plugin_leaks")
    r = recap_factory(app.url, args=["--database-url", db.url])
    harness.wait_http(f"{r.control}/readyz", timeout=15)
    args = ["--recap-control", r.control, "--recap-url", r.url]
    out = run_plugin(suite, r.url, *args, "--recap-leaks", "fail")
    assert out.returncode == 1 and "3 passed, 2 errors" in out.stdout, out.stdout + out.stderr
    org = next(c for c in r.records() if c["request"]["method"] == "POST")["response"]["body"]["id"]
    assert f"left 1 row: public.organizations id={org}" in out.stdout
    assert (f"deleted public.organizations id={org}, a row test_leaky.py::test_a_leaves_an_organization made"
            in out.stdout)
    assert "ERROR at teardown of test_c_cleans_up" not in out.stdout
    out = run_plugin(suite, r.url, *args, "--recap-leaks", "report")
    assert out.returncode == 0 and "recap leaks: left 1 row: public.organizations" in out.stdout, out.stdout


def test_under_xdist_a_bug_fails_exactly_the_tests_whose_calls_hit_it(db, recap_factory, tmp_path):
    """The same suite, every test verified against specs/ under -n 4: green; then with the campaign's status
    update forgotten by the app (its response still claims it), exactly the 8 tests that change a campaign
    fail, each with the spec's finding; the 32 others pass."""
    for bugs in ((), ("missing_update",)):
        app = harness.App(db.url, env={"RECAP_APP_BUG": ",".join(bugs)}).start()
        try:
            r = recap_factory(app.url, args=["--database-url", db.url])
            harness.wait_http(f"{r.control}/readyz", timeout=15)
            out = run_plugin(XDIST_SUITE, r.url, "-n", "4", "--recap-control", r.control, "--recap-url", r.url,
                             "--recap-specs", os.path.join(harness.ROOT, "specs"), "--recap-bin", harness.RECAP,
                             "--recap-require-spec", log=tmp_path / "sent.jsonl")
        finally:
            app.stop()
        if not bugs:
            assert out.returncode == 0 and "40 passed" in out.stdout, out.stdout + out.stderr
    assert out.returncode == 1 and "8 failed, 32 passed" in out.stdout, out.stdout
    failed = sorted(line.split()[1] for line in out.stdout.splitlines() if line.startswith("FAILED "))
    assert failed == sorted(f"test_labels.py::test_a_campaign_goes_live[{c}-{n}]" for c in ("httpx", "requests")
                            for n in range(4))
    for test in failed:  # each with the spec's finding on its own call (which column the closest row
        # misses first depends on what else was in flight)
        assert any(f"(test {test}): db.campaigns.updated[0]." in line for line in out.stdout.splitlines()), test


def test_orphans_on_the_test_that_ran_and_values_saved_across_tests_and_workers(db, app, recap_factory, tmp_path,
                                                                                monkeypatch):
    """A fixture writing straight to the database fails its test under `orphans: forbid` and is named as a
    leak; a value one test's call saves is there for another test, in another xdist worker too; a call no spec
    matches fails its test under --recap-require-spec."""
    suite = os.path.join(harness.ROOT, "tests", "plugin_trust")
    r = recap_factory(app.url, args=["--database-url", db.url])
    harness.wait_http(f"{r.control}/readyz", timeout=15)
    monkeypatch.setenv("DATABASE_URL", db.url)
    for extra in ([], ["-n", "2", "--dist", "loadfile"]):
        db.psql("app", "TRUNCATE organizations, campaigns, jobs, campaign_audit, event_log CASCADE")
        marker = tmp_path / f"marker{len(extra)}"
        marker.mkdir()
        monkeypatch.setenv("MARKER_DIR", str(marker))
        out = run_plugin(suite, r.url, "--recap-control", r.control, "--recap-url", r.url, "--recap-specs",
                         os.path.join(suite, "specs"), "--recap-bin", harness.RECAP, "--recap-leaks", "report",
                         "--recap-require-spec", *extra)
        assert out.returncode == 1 and "2 failed, 2 passed" in out.stdout, out.stdout + out.stderr
        failed = sorted(line.split()[1] for line in out.stdout.splitlines() if line.startswith("FAILED "))
        assert failed == ["test_b_uses.py::test_a_fixture_writes_behind_the_apis_back",
                          "test_c_unspecified.py::test_calls_a_route_no_spec_describes"], out.stdout
        assert "no spec matches call #" in out.stdout and " GET /api/v1/health -> 200" in out.stdout
        assert ("(no call's: public.organizations: 1 inserted) committed while the test ran  "
                "(specs/trust.yaml:1:10: orphans: forbid)") in out.stdout.replace(suite + "/", ""), out.stdout
        scratch = db.psql("app", "SELECT id FROM organizations WHERE name LIKE 'scratch-%'").strip()
        assert f"recap leaks: left 1 row: public.organizations id={scratch}" in out.stdout, out.stdout
