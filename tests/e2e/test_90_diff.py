"""recap diff end to end: two recordings of the demo scenario against fresh
databases are the same after noise handling; a recording with a regression
switched on in the example API differs exactly there."""
import json
import subprocess

import pytest

import harness


def diff(*args):
    return subprocess.run([harness.RECAP, "diff", *args], capture_output=True, text=True, timeout=60)


def test_two_recordings_of_the_same_build_are_the_same(record_demo):
    a = record_demo()
    b = record_demo()  # new ids, uuids and timestamps: all noise
    out = diff(a, b)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip() == "SAME: 12 calls in A, 12 in B: 0 aligned differ, 0 only in A, 0 only in B"


# bug -> every call that differs (key, seq) and its differences (where, A, B), in any order: the regression
# itself, and what it changes downstream in the same scenario, nothing else. A row or list element missing
# or extra is reported whole ("row": its values vary from run to run).
REGRESSIONS = {
    "wrong_status": {("POST /api/v1/organizations", 1): [("status", "201", "200")]},
    "changed_field": {
        ("POST /api/v1/organizations", 1): [("response.body.name", '"acme"', '"ACME"')],
        ("GET /api/v1/organizations/{organization}", 2): [("response.body.name", '"acme"', '"ACME"')]},
    "missing_update": {
        ("PATCH /api/v1/campaigns/{campaign}", 4): [
            ("db.public.campaigns.update[].status", '"active"', '"draft"'),
            ("db.public.campaign_audit.insert[].new_status", '"active"', '"draft"')],
        # the campaign never became active: pausing finds nothing to pause
        ("POST /api/v1/organizations/{organization}/campaigns/pause", 6): [
            ("response.body.paused", "1", "0"),
            ("db.public.campaigns.update", "1", "(absent)"),
            ("db.public.campaign_audit.insert", "1", "(absent)"),
            ("db.public.campaigns.update[]", "row", "(absent)"),
            ("db.public.campaign_audit.insert[]", "row", "(absent)")]},
    "extra_row": {
        ("POST /api/v1/campaigns/{campaign}/jobs", 5): [("db.public.jobs.insert", "3", "4"),
                                                         ("db.public.jobs.insert[]", "(absent)", "row")],
        ("DELETE /api/v1/organizations/{organization}", 11): [("db.public.jobs.delete", "3", "4"),
                                                               ("db.public.jobs.delete[]", "(absent)", "row")]},
    "unexpected_table": {("POST /api/v1/organizations", 1): [("db.public.event_log.insert", "(absent)", "1"),
                                                             ("db.public.event_log.insert[]", "(absent)", "row")]},
}


def differences(report):
    """{(key, seq of A): sorted [(where, A, B)]} of a diff's JSON report; whole rows shown as "row"."""
    def shown(where, v):
        return "row" if where.endswith("[]") and v != "(absent)" else v
    return {(c["key"], c["a"]["seq"]): sorted((x["where"], shown(x["where"], x["a"]), shown(x["where"], x["b"]))
                                              for x in c["differences"])
            for c in report["calls_that_differ"]}


@pytest.mark.parametrize("bug", sorted(REGRESSIONS))
def test_a_regression_is_reported_exactly_where_it_is(record_demo, tmp_path, bug):
    base = record_demo()
    new = record_demo(bugs=[bug])
    report = tmp_path / "diff.json"
    out = diff(base, new, "--json", str(report))
    assert out.returncode == 1, out.stdout + out.stderr
    d = json.loads(report.read_text())
    assert d["same"] is False and d["only_a"] == 0 and d["only_b"] == 0
    assert all(c["a"]["seq"] == c["b"]["seq"] for c in d["calls_that_differ"])
    assert differences(d) == {k: sorted(v) for k, v in REGRESSIONS[bug].items()}


def test_learned_and_explicit_noise(record_demo, tmp_path):
    a = record_demo()
    b = record_demo(bugs=["changed_field"])
    noise = tmp_path / "noise.txt"
    noise.write_text("# names are free-form in this suite\nresponse.body.name\n")
    out = diff(a, b, "--noise", str(noise))
    assert out.returncode == 0, out.stdout
    # two runs that differ only in that field teach the same thing
    out = diff(a, b, "--learn", a, b)
    assert out.returncode == 0, out.stdout


def test_bad_input_exits_2(record_demo, tmp_path):
    a = record_demo()
    lines = open(a).read().splitlines(keepends=True)
    torn = tmp_path / "torn.jsonl"
    torn.write_text("".join(lines[:-1]) + lines[-1][:30])
    out = diff(a, str(torn))
    assert out.returncode == 2 and f"{torn}:{len(lines)}:" in out.stderr and "torn" in out.stderr
    v9 = tmp_path / "v9.jsonl"
    v9.write_text(lines[0].replace('"recap":1', '"recap":9') + "".join(lines[1:]))
    out = diff(a, str(v9))
    assert out.returncode == 2 and "format" in out.stderr and f"{v9}:1:" in out.stderr
    bad_noise = tmp_path / "noise.txt"
    bad_noise.write_text("body.name\n")
    out = diff(a, a, "--noise", str(bad_noise))
    assert out.returncode == 2 and f"{bad_noise}:1:1: 'body.name' is not a path" in out.stderr
    for args in ([a], [a, a, a], [a, a, "--bogus"], [a, a, "--learn", a]):
        assert diff(*args).returncode == 2, args
    out = diff(a, a, "--json", str(tmp_path / "no-dir" / "d.json"))
    assert out.returncode == 2 and "cannot write" in out.stderr
