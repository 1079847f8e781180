"""recap specgen end to end: drafts from a recording of the demo scenario
verify that recording (and a second one) with zero failures, and fail on the
recording of every injected regression."""
import os
import subprocess

import pytest

import harness

BUGS = ["changed_field", "extra_row", "missing_update", "unexpected_table", "wrong_status"]


def recap(*args):
    return subprocess.run([harness.RECAP, *args], capture_output=True, text=True, timeout=60)


@pytest.fixture
def drafted(record_demo, tmp_path):
    base = record_demo()
    out = recap("specgen", base, "-o", str(tmp_path / "specs"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("12 specs for 12 calls in 4 files under ")
    assert sorted(os.listdir(tmp_path / "specs")) == ["boom.yaml", "campaigns.yaml", "health.yaml",
                                                      "organizations.yaml"]
    return base, str(tmp_path / "specs")


def test_drafts_verify_the_runs_they_come_from(record_demo, drafted):
    base, specs = drafted
    again = record_demo()  # new ids, uuids and timestamps
    out = recap("verify", base, again, "--specs", specs, "--require-spec")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "24 calls: 24 passed, 0 failed, 0 without a spec" in out.stdout
    text = open(os.path.join(specs, "organizations.yaml")).read()
    assert 'path: "/api/v1/organizations/{organization}"' in text
    assert "name: ${request.body.name}" in text and "id: ${response.body.id}" in text
    # nothing the run made is written as a literal: no uuid or timestamp of it
    made = {c["response"]["body"]["id"] for c in harness.read_capture(base)[1]
            if c["type"] == "call" and isinstance(c["response"].get("body"), dict)
            and isinstance(c["response"]["body"].get("id"), str)}
    stamps = {c["response"]["body"]["created_at"] for c in harness.read_capture(base)[1]
              if c["type"] == "call" and isinstance(c["response"].get("body"), dict)
              and "created_at" in c["response"]["body"]}
    drafts = "".join(open(os.path.join(specs, f)).read() for f in os.listdir(specs))
    assert made and stamps and not [v for v in made | stamps if v in drafts]
    # one route, several outcomes: a spec per status, chosen by match.status
    assert 'name: "POST /api/v1/organizations -> 201"' in text and "      status: 409" in text


@pytest.mark.parametrize("bug", BUGS)
def test_drafts_fail_on_each_regression(record_demo, drafted, bug):
    _, specs = drafted
    out = recap("verify", record_demo(bugs=[bug]), "--specs", specs, "--require-spec")
    assert out.returncode == 1, out.stdout + out.stderr


def test_bad_input_leaves_no_drafts(record_demo, tmp_path):
    base = record_demo()
    lines = open(base).read().splitlines(keepends=True)
    torn = tmp_path / "torn.jsonl"
    torn.write_text("".join(lines[:-1]) + lines[-1][:25])
    out = recap("specgen", str(torn), "-o", str(tmp_path / "a"))
    assert out.returncode == 2 and f"{torn}:{len(lines)}:" in out.stderr
    assert not (tmp_path / "a").exists() or os.listdir(tmp_path / "a") == []
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "campaigns.yaml").write_text("# mine\n")
    out = recap("specgen", base, "-o", str(tmp_path / "b"))
    assert out.returncode == 2 and "campaigns.yaml exists" in out.stderr
    assert os.listdir(tmp_path / "b") == ["campaigns.yaml"]  # nothing written, nothing lost
    assert recap("specgen", base, "-o", str(tmp_path / "b"), "--force").returncode == 0
    assert recap("specgen", base).returncode == 2
    assert recap("specgen", "-o", str(tmp_path / "c")).returncode == 2


def test_threads_give_the_same_report(record_demo, drafted, tmp_path):
    """Drafts save nothing, so verify may split captures across threads: the report must not change."""
    base, specs = drafted
    caps = [base, record_demo(bugs=["missing_update"]), record_demo(bugs=["extra_row"])]
    reports = []
    for jobs in ("1", "3"):
        out = tmp_path / f"r{jobs}.json"
        run = recap("verify", *caps, "--specs", specs, "--jobs", jobs, "--json", str(out))
        assert run.returncode == 1, run.stdout + run.stderr
        reports.append((run.stdout, out.read_text()))
    assert reports[0] == reports[1]
    lines = open(caps[1]).read().splitlines(keepends=True)
    torn = tmp_path / "torn.jsonl"
    torn.write_text("".join(lines[:-1]) + lines[-1][:30])
    runs = [recap("verify", str(torn), "--specs", specs, "--jobs", j) for j in ("1", "2")]
    assert [r.returncode for r in runs] == [2, 2]
    assert runs[0].stdout == runs[1].stdout and runs[0].stderr == runs[1].stderr
    assert "torn last line" in runs[1].stderr
