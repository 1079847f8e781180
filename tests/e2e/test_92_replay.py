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


def test_a_compressing_api_is_recorded_decoded_verified_and_replayed_the_same(db, recap_factory, tmp_path):
    """The API compresses every response (Starlette's GZipMiddleware; the scenario's httpx asks for gzip, as
    clients do by default): recap records the bodies decoded, with their size on the wire, so the specs match
    them, and a replay (which asks for no compression) gives the same run."""
    import scenario
    db.psql("app", "TRUNCATE organizations, campaigns, jobs, campaign_audit, event_log CASCADE")
    app = harness.App(db.url, env={"RECAP_APP_GZIP": "1"}).start()
    try:
        r = recap_factory(app.url, args=["--database-url", db.url])
        harness.wait_http(f"{r.control}/readyz", timeout=15)
        scenario.run(r.url, lambda name: r.control_request("PUT", "/test", (name or "").encode()))
        r.barrier()
        assert r.stop() == 0
    finally:
        app.stop()
    calls = r.records()
    coded = [c for c in calls if c["response"]["headers"].get("content-encoding") == "gzip" and
             c["response"]["body_size"] > 0]
    assert len(coded) >= 10, [c["response"]["headers"] for c in calls]
    for c in coded:
        assert c["response"]["decoded"] == "gzip" and "body_b64" not in c["response"], c["response"]
    made = next(c for c in coded if c["request"]["method"] == "POST")
    assert made["response"]["body"]["name"] == made["request"]["body"]["name"]
    out = subprocess.run([harness.RECAP, "verify", r.capture, "--specs", os.path.join(harness.ROOT, "specs"),
                          "--require-spec"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "PASS: 12 calls: 12 passed" in out.stdout, out.stdout + out.stderr
    out = replay(db, r.capture, tmp_path)
    assert out.stdout.strip().endswith("SAME: 12 calls in A, 12 in B: 0 aligned differ, 0 only in A, 0 only in B"), \
        out.stdout + out.stderr
