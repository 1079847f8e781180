"""`recap run`: one command from nothing to a verified report: the proxy in front of the example API, the
suite run through it, every call written, verify. And its bad input."""
import os
import shutil
import socket
import subprocess

import harness

SPECS = os.path.join(harness.ROOT, "specs")


def run(app, db, tmp_path, *extra, command=("/usr/bin/python3", "tests/scenario.py"), specs=SPECS):
    db.psql("app", "TRUNCATE organizations, campaigns, jobs, campaign_audit, event_log RESTART IDENTITY CASCADE")
    if os.path.exists(tmp_path / "c.jsonl"):
        os.remove(tmp_path / "c.jsonl")  # a run appends to its capture: each of these starts afresh
    return subprocess.run([harness.RECAP, "run", "--upstream", app.url, "--database-url", db.url, "--specs", specs,
                           "--capture", str(tmp_path / "c.jsonl"), "--junit", str(tmp_path / "j.xml"), *extra,
                           "--", *command], cwd=harness.ROOT, capture_output=True, text=True, timeout=180)


def test_one_command_from_nothing_to_a_verified_report(app, db, tmp_path):
    out = run(app, db, tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert '"calls": 12' in out.stdout  # the suite ran against the proxy, through API_BASE_URL
    assert "PASS: 12 calls: 12 passed, 0 failed, 0 without a spec" in out.stdout
    assert (tmp_path / "j.xml").exists()
    assert "the suite exited 0" in out.stderr


def test_a_broken_spec_or_suite_fails_the_run(app, db, tmp_path):
    specs = tmp_path / "specs"
    shutil.copytree(SPECS, specs)
    orgs = specs / "organizations.yaml"
    orgs.write_text(orgs.read_text().replace("status: 201", "status: 200", 1))
    out = run(app, db, tmp_path, specs=str(specs))
    assert out.returncode == 1, out.stdout
    assert "status: expected 200, got 201" in out.stdout
    out = run(app, db, tmp_path, command=("sh", "-c", "/usr/bin/python3 tests/scenario.py; exit 3"))
    assert out.returncode == 1 and "the suite exited 3" in out.stderr, out.stderr
    assert "PASS: 12 calls" in out.stdout  # verified all the same


def test_bad_input_is_one_line_and_leaves_nothing_running(app, db, tmp_path):
    def recap(*args):
        return subprocess.run([harness.RECAP, "run", "--upstream", app.url, "--capture", str(tmp_path / "x.jsonl"),
                               *args], capture_output=True, text=True, timeout=60)
    out = recap("--")
    assert out.returncode == 2 and out.stderr == "recap: run: give the command to run after -- (see recap run --help)\n"
    out = recap("--", "/no/such/command")
    assert out.returncode == 2 and "recap: run: cannot run '/no/such/command': No such file or directory" in out.stderr
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        out = recap("--listen", f"127.0.0.1:{taken.getsockname()[1]}", "--", "true")
        assert out.returncode == 2 and "recap: run: the proxy exited at start" in out.stderr, out.stderr
    finally:
        taken.close()
    left = subprocess.run(["pgrep", "-f", str(tmp_path / "x.jsonl")], capture_output=True, text=True)
    assert left.stdout == "", left.stdout  # no proxy left behind
