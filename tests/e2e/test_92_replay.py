"""recap replay end to end: a recording of the demo scenario sent again to
the example API on a fresh database gives the same run; with a regression
switched on, the diff names exactly that regression, at the right call."""
import json
import os
import subprocess

import pytest

import harness
from test_90_diff import REGRESSIONS, differences


def replay(db, baseline, tmp_path, bugs=(), extra=()):
    db.psql("app", "TRUNCATE organizations, campaigns, jobs, campaign_audit, event_log CASCADE")
    app = harness.App(db.url, env={"RECAP_APP_BUG": ",".join(bugs)})
    app.start()
    try:
        return subprocess.run([harness.RECAP, "replay", baseline, "--target", app.url, "--database-url", db.url,
                               "--capture", str(tmp_path / "new.jsonl"), *extra],
                              capture_output=True, text=True, timeout=120)
    finally:
        app.stop()


def test_a_replay_of_the_same_build_is_the_same(db, record_demo, tmp_path):
    base = record_demo()
    out = replay(db, base, tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "replayed 12 calls in " in out.stdout
    # the scenario's static Authorization came from outside the run: said, call by call
    assert ("12 redacted header values not sent (the baseline does not say where they came from): "
            "#1 authorization, #2 authorization, #3 authorization,") in out.stdout
    assert out.stdout.strip().endswith("SAME: 12 calls in A, 12 in B: 0 aligned differ, 0 only in A, 0 only in B")
    new = harness.read_capture(str(tmp_path / "new.jsonl"))[1]
    assert [c["test"] for c in new] == [c["test"] for c in harness.read_capture(base)[1] if c["type"] == "call"]
    # ids returned by earlier calls were remapped into later paths: every call found its resource
    assert [c["response"]["status"] for c in new if c["type"] == "call"] == \
        [201, 200, 201, 200, 201, 200, 404, 409, 422, 500, 204, 200]


@pytest.mark.parametrize("bug", sorted(REGRESSIONS))
def test_a_replay_finds_each_regression_exactly(db, record_demo, tmp_path, bug):
    base = record_demo()
    out = replay(db, base, tmp_path, bugs=[bug], extra=["--json", str(tmp_path / "d.json")])
    assert out.returncode == 1, out.stdout + out.stderr
    d = json.loads((tmp_path / "d.json").read_text())
    assert differences(d) == {k: sorted(v) for k, v in REGRESSIONS[bug].items()}


def test_bad_input_and_a_target_that_is_down(db, record_demo, tmp_path):
    base = record_demo()
    lines = open(base).read().splitlines(keepends=True)
    torn = tmp_path / "torn.jsonl"
    torn.write_text("".join(lines[:-1]) + lines[-1][:30])
    out = subprocess.run([harness.RECAP, "replay", str(torn), "--target", "http://127.0.0.1:9"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and f"{torn}:{len(lines)}:" in out.stderr
    down = harness.free_port()
    out = subprocess.run([harness.RECAP, "replay", base, "--target", f"http://127.0.0.1:{down}",
                          "--capture", str(tmp_path / "x.jsonl")], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip() == (f"recap: replay: target http://127.0.0.1:{down} is not reachable: "
                                  "Connection refused")
    assert not os.path.exists(tmp_path / "x.jsonl")  # nothing left as if it were a run
    for args in ([base], ["--target", "http://127.0.0.1:9"], [base, "--target", "ftp://x"],
                 [base, "--target", "http://127.0.0.1:9", "--header", "nocolon"]):
        assert subprocess.run([harness.RECAP, "replay", *args], capture_output=True).returncode == 2, args
