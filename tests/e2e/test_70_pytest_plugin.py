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
