"""recap verify end to end: the demo scenario recorded through recap with row
changes from a real Postgres, checked against specs/; the example API with a
bug switched on fails with exactly that finding; reports parse and render."""
import json
import os
import subprocess
import xml.etree.ElementTree as ET

import pytest

import harness

SPECS = os.path.join(harness.ROOT, "specs")


def verify(*args):
    return subprocess.run([harness.RECAP, "verify", *args], capture_output=True, text=True, timeout=60)


def test_the_demo_scenario_verifies_green(record_demo, tmp_path):
    cap = record_demo()
    junit, js = tmp_path / "j.xml", tmp_path / "r.json"
    out = verify(cap, "--specs", SPECS, "--junit", str(junit), "--json", str(js), "--require-spec")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "PASS: 12 calls: 12 passed, 0 failed, 0 without a spec" in out.stdout
    suites = ET.parse(junit).getroot()
    assert suites.get("tests") == "12" and suites.get("failures") == "0"
    assert sorted(s.get("name") for s in suites) == ["scenario::campaign_lifecycle", "scenario::cleanup",
                                                     "scenario::create_org", "scenario::errors"]
    report = json.loads(js.read_text())
    assert report["ok"] and report["passed"] == 12


BUGS = {
    # bug -> (the failing call as "METHOD path-prefix", the findings' messages, exactly)
    "wrong_status": ("POST /api/v1/organizations", ["status: expected 201, got 200"]),
    "missing_update": ("PATCH /api/v1/campaigns/", [
        'db.campaigns.updated[0].status: no updated row matches (closest {…}: expected "active" '
        '(${request.body.status}), got "draft")',
        'db.campaign_audit.inserted[0].new_status: no inserted row matches (closest {…}: expected "active" '
        '(${request.body.status}), got "draft")']),
    "extra_row": ("POST /api/v1/campaigns/", [
        "db.jobs.inserted (row count): expected 3 (${request.body.count}), got 4"]),
    "unexpected_table": ("POST /api/v1/organizations", [
        "db: unexpected changes to public.event_log: 1 inserted (the spec does not name it; strict)"]),
}


def strip_rows(msg):
    """Row images hold ids and times: compare the message with the closest row elided."""
    start = msg.find("(closest {")
    if start < 0:
        return msg
    end = msg.rfind(": expected ")
    return msg[:start] + "(closest {…}" + msg[end:]


@pytest.mark.parametrize("bug", sorted(BUGS))
def test_a_bug_in_the_api_is_found_exactly(record_demo, tmp_path, bug):
    cap = record_demo(bugs=[bug])
    js, junit = tmp_path / "r.json", tmp_path / "j.xml"
    out = verify(cap, "--specs", SPECS, "--json", str(js), "--junit", str(junit))
    assert out.returncode == 1, out.stdout + out.stderr
    report = json.loads(js.read_text())
    failed = [c for c in report["results"] if c["result"] == "fail"]
    assert len(failed) == 1, failed  # exactly the call the bug is in
    call = failed[0]
    where, messages = BUGS[bug]
    assert f"{call['method']} {call['path']}".startswith(where)
    assert [strip_rows(f["message"]) for f in call["findings"]] == messages
    for f in call["findings"]:  # each finding names the spec position, the call, expected and actual
        assert f["line"].startswith(f["at"] + f": call #{call['seq']} {call['method']} {call['path']} (test ")
        assert f["at"].startswith(SPECS + "/")
    # the JUnit XML carries it, under the test's name
    root = ET.parse(junit).getroot()
    assert root.get("failures") == "1"
    (case,) = [c for c in root.iter("testcase") if c.find("failure") is not None]
    assert case.get("classname") == call["test"]
    assert messages[0].split(":")[0] in case.find("failure").get("message")


def test_the_html_report_shows_the_failing_call_in_chromium(record_demo, tmp_path):
    cap = record_demo(bugs=["wrong_status"])
    html = tmp_path / "report.html"
    out = verify(cap, "--specs", SPECS, "--html", str(html))
    assert out.returncode == 1
    assert f"HTML report: {html}" in out.stdout
    chromium = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                f"--user-data-dir={tmp_path / 'profile'}"]
    png = tmp_path / "report.png"
    shot = subprocess.run(chromium + [f"--screenshot={png}", "--window-size=1280,1600", f"file://{html}"],
                          capture_output=True, text=True, timeout=120)
    assert shot.returncode == 0, shot.stderr
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20000  # a rendered page, not a blank one
    dom = subprocess.run(chromium + ["--dump-dom", f"file://{html}"], capture_output=True, text=True,
                         timeout=120).stdout
    assert "<title>recap verify: FAIL</title>" in dom
    first = dom.index("<details")  # failures come first, opened
    block = dom[first:dom.index("</details>", first)]
    assert 'class="fail" open=""' in block and "POST /api/v1/organizations" in block
    assert "status: expected 201, got 200" in block
    assert "<th>insert organizations</th>" in block  # its row changes as a table


def test_bad_input_is_reported_with_its_position_and_exit_2(record_demo, tmp_path):
    cap = record_demo()
    lines = open(cap).read().splitlines(keepends=True)
    torn = tmp_path / "torn.jsonl"
    torn.write_text("".join(lines[:-1]) + lines[-1][:40])  # the writer died mid-line
    out = verify(str(torn), "--specs", SPECS)
    assert out.returncode == 2
    assert f"{torn}:{len(lines)}:" in out.stderr and "torn" in out.stderr
    assert "11 calls: 11 passed" in out.stdout  # the complete lines were still verified
    assert out.stdout.splitlines()[-1].startswith("FAIL: 11 calls") and "1 bad input lines" in out.stdout

    foreign = tmp_path / "v9.jsonl"
    foreign.write_text(lines[0].replace('"recap":1', '"recap":9') + "".join(lines[1:]))
    out = verify(str(foreign), "--specs", SPECS)
    assert out.returncode == 2 and f"{foreign}:1:" in out.stderr, out.stderr
    assert out.stdout == ""

    bad = tmp_path / "bad.yaml"
    bad.write_text("specs:\n  - match: {path: /x}\n    expect: {status: 200, bdy: {}}\n")
    out = verify(cap, "--specs", str(bad))
    assert out.returncode == 2
    assert out.stderr.strip() == (f"recap: verify: {bad}:3:27: unknown key 'bdy' in expect "
                                  "(known: status, headers, body, db)")

    for args, msg in [(["--specs", SPECS], "no capture file given"),
                      ([cap], "no specs: give --specs DIR or set RECAP_SPECS"),
                      ([cap, "--specs", SPECS, "--colour", "x"], "unknown flag '--colour'"),
                      ([str(tmp_path / "nope.jsonl"), "--specs", SPECS], "No such file or directory")]:
        out = verify(*args)
        assert out.returncode == 2 and msg in out.stderr, (args, out.stderr)
    # a report that cannot be written is an error, and leaves no partial file
    out = verify(cap, "--specs", SPECS, "--junit", str(tmp_path / "missing-dir" / "j.xml"))
    assert out.returncode == 2 and "cannot write" in out.stderr
    assert not (tmp_path / "missing-dir").exists()


def test_several_captures_at_once_share_saved_values(record_demo, tmp_path):
    """Sharded CI: the first half of a run in one file, the rest in another."""
    cap = record_demo()
    lines = open(cap).read().splitlines(keepends=True)
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text("".join(lines[:4]))
    b.write_text(lines[0] + "".join(lines[4:]))
    out = verify(str(a), str(b), "--specs", SPECS)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "12 calls: 12 passed" in out.stdout


def test_calls_without_a_spec_are_listed_unless_quiet(record_demo):
    cap = record_demo()
    only = os.path.join(SPECS, "errors.yaml")  # the five error and health steps
    out = verify(cap, "--specs", only)
    assert out.returncode == 0, out.stdout
    assert "NO SPEC #1 POST /api/v1/organizations -> 201" in out.stdout
    quiet = verify(cap, "--specs", only, "--quiet")
    assert quiet.returncode == 0 and "NO SPEC" not in quiet.stdout
    assert quiet.stdout.strip() == "PASS: 12 calls: 5 passed, 0 failed, 7 without a spec"
    strict = verify(cap, "--specs", only, "--quiet", "--require-spec")
    assert strict.returncode == 1
    assert "FAIL #1 POST /api/v1/organizations -> 201" in strict.stdout  # failures are always listed


def test_calls_are_checked_in_the_order_they_arrived(record_demo, tmp_path):
    """A capture holds calls as they finished: a call that saves a value may be written after the call that
    uses it. verify reads them by arrival, so ${saved.org_id} still has its value."""
    lines = open(record_demo()).read().splitlines(keepends=True)
    calls = [i for i, line in enumerate(lines) if '"type":"call"' in line]
    first, second = calls[0], calls[2]  # POST /organizations saves org_id; the campaign's spec uses it
    assert '"save' not in lines[second]
    lines[first], lines[second] = lines[second], lines[first]
    swapped = tmp_path / "finished-out-of-order.jsonl"
    swapped.write_text("".join(lines))
    out = verify(str(swapped), "--specs", SPECS, "--require-spec")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "PASS: 12 calls: 12 passed, 0 failed, 0 without a spec" in out.stdout


def test_a_served_verifier_answers_batch_by_batch_and_keeps_saved_values(record_demo):
    """recap verify --serve: what the pytest plugin keeps up for a run instead of a process per test. A batch
    comes as GET /calls gives it, in the order the calls finished: its calls are checked in the order they
    arrived (the first batch has the campaign, which uses the org_id the organization's call saves, first)."""
    calls = [line for line in open(record_demo()).read().splitlines() if '"type":"call"' in line]
    p = subprocess.Popen([harness.RECAP, "verify", "--serve", "--specs", SPECS, "--require-spec"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    answers = []
    for batch in ([calls[2], calls[0]], [calls[0]], calls[1:3], ["not json"], []):
        p.stdin.write("".join(line + "\n" for line in batch) + "\n")
        p.stdin.flush()
        answers.append(json.loads(p.stdout.readline()))
    p.stdin.close()
    assert p.wait(10) == 0 and p.stderr.read() == ""
    assert [(a["calls"], a["failed"], a["findings"], a["no_spec"]) for a in answers] == [
        (2, 0, [], []), (1, 0, [], []), (2, 0, [], []), (0, 0, [], []), (0, 0, [], [])]
    assert answers[3]["errors"] == ["line 1: not a record: '[' or '{' expected near 'not'"]


def test_leaks_name_the_test_the_rows_and_who_depended_on_them(record_app, tmp_path):
    """A leaves an organization behind; B deletes it (B passes only after A: order dependence); C cleans up."""
    def drive(r):
        import httpx
        with httpx.Client(base_url=r.url, timeout=10) as c:
            r.control_request("PUT", "/test", b"t.py::test_a")
            org = c.post("/api/v1/organizations", json={"name": "left-behind"}).json()
            r.control_request("PUT", "/test", b"t.py::test_c")
            own = c.post("/api/v1/organizations", json={"name": "cleaned"}).json()
            c.delete(f"/api/v1/organizations/{own['id']}")
            r.control_request("PUT", "/test", b"t.py::test_b")
            assert c.delete(f"/api/v1/organizations/{org['id']}").status_code == 204
            r.control_request("PUT", "/test", b"")
        drive.org = org["id"]
    cap = record_app(drive)
    specs = tmp_path / "orgs.yaml"
    specs.write_text("specs:\n"
                     "  - {name: create, match: {method: POST, path: /api/v1/organizations}, expect: {status: 201}}\n"
                     "  - {name: delete, match: {method: DELETE, path: \"/api/v1/organizations/{id}\"},\n"
                     "     expect: {status: 204}}\n")
    report = tmp_path / "r.json"
    out = verify(cap, "--specs", str(specs), "--leaks", "--json", str(report))
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert f"LEAK t.py::test_a left 1 row: public.organizations id={drive.org}" in lines
    assert [line for line in lines if line.startswith("DEPENDS")] == [
        f"DEPENDS t.py::test_b (call #4) deleted public.organizations id={drive.org}, a row t.py::test_a made"]
    assert "leaks: 1 test left rows behind, 1 call changed rows another test made" in lines
    leaks = json.loads(report.read_text())["leaks"]
    assert leaks["leaks"] == [{"test": "t.py::test_a", "rows": [{"table": "public.organizations",
                                                                  "key": f"id={drive.org}"}]}]
    assert [(d["test"], d["on"], d["op"]) for d in leaks["depends"]] == [("t.py::test_b", "t.py::test_a", "delete")]
    junit, html = tmp_path / "j.xml", tmp_path / "r.html"
    out = verify(cap, "--specs", str(specs), "--fail-on-leaks", "--junit", str(junit), "--html", str(html))
    assert out.returncode == 1, out.stdout + out.stderr
    suite = next(s for s in ET.parse(junit).getroot() if s.get("name") == "recap leaks")
    assert (suite.get("tests"), suite.get("failures")) == ("2", "2")
    assert [(c.get("name"), c[0].get("type"), c[0].get("message")) for c in suite] == [
        ("t.py::test_a", "recap.leak", f"left 1 row: public.organizations id={drive.org}"),
        ("t.py::test_b", "recap.depends",
         f"(call #4) deleted public.organizations id={drive.org}, a row t.py::test_a made")]
    page = html.read_text()
    assert "<h2>Leaks and order dependences</h2>" in page and "t.py::test_a" in page
