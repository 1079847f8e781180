"""The spec language on real traffic (the example API through recap, row changes from PostgreSQL):
outcome specs for one route's 201 and 409 in one test, quantifiers that catch a cascade that misses
rows, names checked against what was captured (typos said as typos), coverage of specs and calls, and
`recap show`."""
import json
import subprocess
import xml.etree.ElementTree as ET

import httpx
import pytest

import harness

OUTCOMES = """
specs:
  - name: an organization is created
    match: {method: POST, path: /api/v1/organizations, status: 201}
    expect:
      body: {id: $int, name: "${request.body.name}"}
      db:
        tables:
          organizations:
            inserted: [{id: "${response.body.id}", name: "${request.body.name}"}]
  - name: a duplicate is refused and writes nothing
    match: {method: POST, path: /api/v1/organizations, status: 409}
    expect:
      body: {detail: {$regex: exists}}
      db: none
"""

CASCADE = """
specs:
  - name: a campaign is created
    match: {method: POST, path: "/api/v1/organizations/{org}/campaigns"}
  - name: a campaign is activated
    match: {method: PATCH, path: "/api/v1/campaigns/{cid}"}
  - name: pausing an organization pauses every active campaign of it
    match: {method: POST, path: "/api/v1/organizations/{org}/campaigns/pause"}
    expect:
      db:
        tables:
          campaigns:
            updated: {$every: {org_id: "${path.org}", status: paused}, $count: {$min: 1}}
          campaign_audit:
            inserted: {$every: {new_status: paused}}
"""


def verify(*args):
    return subprocess.run([harness.RECAP, "verify", *args], capture_output=True, text=True, timeout=60)


@pytest.fixture
def run_app(record_app):
    """run_app(drive, bugs=()) -> a capture of drive(client), an httpx client of recap's URL (record_app)."""
    def run(drive, bugs=()):
        def through(r):
            with httpx.Client(base_url=r.url, timeout=10) as client:
                drive(client)
        return record_app(through, bugs)
    return run


def create_twice(client):
    """One test: a fixture's POST (201), then the test's own POST of the same name (409)."""
    headers = {"X-Recap-Test": "tests/test_orgs.py::test_duplicate_name_is_refused"}
    assert client.post("/api/v1/organizations", json={"name": "acme"}, headers=headers).status_code == 201
    assert client.post("/api/v1/organizations", json={"name": "acme"}, headers=headers).status_code == 409


def failing_specs(out):
    return sorted({line.split('spec "')[1].split('"')[0] for line in out.stdout.splitlines()
                   if line.startswith("FAIL #")})


def test_each_outcome_of_a_route_has_its_own_spec(run_app, tmp_path):
    specs = tmp_path / "orgs.yaml"
    specs.write_text(OUTCOMES)
    out = verify(run_app(create_twice), "--specs", str(specs), "--require-spec", "--require-used")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "PASS: 2 calls: 2 passed, 0 failed, 0 without a spec" in out.stdout
    # each outcome broken alone fails its own spec only
    out = verify(run_app(create_twice, bugs=["changed_field"]), "--specs", str(specs))
    assert out.returncode == 1 and failing_specs(out) == ["an organization is created"], out.stdout
    out = verify(run_app(create_twice, bugs=["conflict_writes"]), "--specs", str(specs))
    assert out.returncode == 1 and failing_specs(out) == ["a duplicate is refused and writes nothing"], out.stdout
    assert "db: expected no row changes, got 1 inserted in public.event_log" in out.stdout


def three_campaigns_paused(client):
    org = client.post("/api/v1/organizations", json={"name": "globex"}).json()["id"]
    for name in ("a", "b", "c"):
        cid = client.post(f"/api/v1/organizations/{org}/campaigns", json={"name": name}).json()["id"]
        assert client.patch(f"/api/v1/campaigns/{cid}", json={"status": "active"}).status_code == 200
    assert client.post(f"/api/v1/organizations/{org}/campaigns/pause").status_code == 200


def test_a_generic_spec_catches_a_cascade_that_misses_rows(run_app, tmp_path):
    specs = tmp_path / "cascade.yaml"
    specs.write_text(CASCADE)
    strict = ["--specs", str(specs)]
    out = verify(run_app(three_campaigns_paused), *strict)
    assert out.returncode == 0, out.stdout + out.stderr
    # every campaign touched, the newest left active: that row is named, with what changed
    out = verify(run_app(three_campaigns_paused, bugs=["pause_partial"]), *strict)
    assert out.returncode == 1, out.stdout
    findings = [line.split(": ", 1)[1] for line in out.stdout.splitlines() if "does not match $every" in line]
    assert len(findings) == 2, out.stdout  # the campaign left active, and the audit row the trigger wrote for it
    assert findings[0].startswith("db.campaigns.updated[") and '"name":"c","status":"active"' in findings[0]
    assert findings[0].endswith('does not match $every: expected "paused", got "active"')
    assert findings[1].startswith("db.campaign_audit.inserted[") and '"new_status":"active"' in findings[1]
    # nothing paused at all: the count says so
    out = verify(run_app(three_campaigns_paused, bugs=["pause_none"]), *strict)
    assert out.returncode == 1
    assert "db.campaigns.updated (row count): expected a number >= 1, got 0" in out.stdout, out.stdout


def test_typos_are_said_as_typos_with_the_nearest_name(run_app, tmp_path):
    cap = run_app(create_twice)
    table = tmp_path / "table.yaml"
    table.write_text(OUTCOMES.replace("          organizations:", "          organization:"))
    out = verify(cap, "--specs", str(table))
    assert out.returncode == 1
    lines = [line for line in out.stdout.splitlines() if line.startswith("FAIL ")]
    assert lines == [f'FAIL spec "an organization is created": {table}:9:11: db.organization: no captured change '
                     "touched a table named 'organization' (nearest: 'organizations')"], out.stdout
    column = tmp_path / "column.yaml"
    column.write_text(OUTCOMES.replace("[{id:", "[{ids:"))
    out = verify(cap, "--specs", str(column))
    lines = [line for line in out.stdout.splitlines() if line.startswith("FAIL ")]
    assert len(lines) == 1 and "db.organizations.inserted[0].ids: no captured row of organizations has a column " \
        "'ids' (nearest: 'id')" in lines[0], out.stdout


def test_coverage_in_every_report(run_app, tmp_path):
    specs = tmp_path / "cov.yaml"
    specs.write_text(OUTCOMES + """
  - name: nobody deletes
    match: {method: DELETE, path: "/api/v1/organizations/{id}"}
""")

    def drive(client):
        create_twice(client)
        client.get("/api/v1/health")
    cap = run_app(drive)
    junit, js, html = tmp_path / "j.xml", tmp_path / "r.json", tmp_path / "r.html"
    out = verify(cap, "--specs", str(specs), "--junit", str(junit), "--json", str(js), "--html", str(html))
    assert out.returncode == 0, out.stdout
    assert f'UNUSED spec "nobody deletes" ({specs}:' in out.stdout
    assert "NO SPEC #3 GET /api/v1/health" in out.stdout
    assert "1 without a spec, 1 specs no call matched" in out.stdout
    report = json.loads(js.read_text())
    assert [u["spec"] for u in report["unused_specs"]] == ["nobody deletes"] and report["without_spec"] == 1
    suites = {s.get("name"): s for s in ET.parse(junit).getroot()}
    assert suites["specs"].find("testcase/skipped") is not None
    assert "nobody deletes" in html.read_text() and "Specs no call matched" in html.read_text()
    # either can be made to fail
    assert verify(cap, "--specs", str(specs), "--require-used").returncode == 1
    assert verify(cap, "--specs", str(specs), "--require-spec").returncode == 1
    out = verify(cap, "--specs", str(specs), "--require-used", "--junit", str(junit))
    assert ET.parse(junit).getroot().find("testsuite[@name='specs']/testcase/failure") is not None


def show(*args):
    return subprocess.run([harness.RECAP, "show", *args], capture_output=True, text=True, timeout=60)


def test_recap_show_prints_calls_and_their_rows(record_demo, tmp_path):
    cap = record_demo()
    out = show(cap)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["seq", "test", "method", "path", "status", "ms", "response", "body"]
    first = lines[1].split()
    assert first[:5] == ["1", "scenario::create_org", "POST", "/api/v1/organizations", "201"]
    assert lines[2].split()[:3] == ["insert", "organizations", "id=1"] and lines[2].endswith("[window]")
    assert lines[-1] == "12 calls shown, 6 of them changed rows; 0 orphan transactions"
    only = show(cap, "--test", "scenario::err*")
    assert [line.split()[0] for line in only.stdout.splitlines()[1:5]] == ["7", "8", "9", "10"]
    one = show(cap, "--call", "4")
    assert json.loads(one.stdout)["request"]["method"] == "PATCH"
    assert show(cap, "--call", "99").returncode == 1
    # a torn last line: the calls before it, then one line, exit 2
    torn = tmp_path / "torn.jsonl"
    torn.write_text(open(cap).read() + '{"type":"call","seq":13,"requ')
    out = show(str(torn))
    assert out.returncode == 2 and "12 calls shown" in out.stdout
    assert len(out.stderr.splitlines()) == 1 and out.stderr.startswith(f"recap: show: {torn}:14:")
    foreign = tmp_path / "foreign.jsonl"
    foreign.write_text('{"hello": "world"}\n')
    out = show(str(foreign))
    assert out.returncode == 2 and out.stderr.startswith(f"recap: show: {foreign}:1:") and out.stdout == ""
