"""The regression tools on the second example API (tests/apps/blog: Node, Express, node-postgres), which
differs from the first wherever real apps broke them: slugs in paths, a signed token sent back as
`Authorization: Token ...`, a session cookie, tags by name, a polymorphic activity table written in a
different order every time, ids and slugs in error messages, names its suite makes up per run. Its own
pytest suite is run through recap on an emptied database whose sequences start somewhere else each time,
so that ids differ between runs as well as names, slugs, tokens and cookies."""
import itertools
import json
import shutil
import socket
import subprocess

import pytest

import harness


@pytest.fixture(scope="module")
def blog_db(pg):
    pg.psql("postgres", "DROP DATABASE IF EXISTS blog")
    pg.psql("postgres", "CREATE DATABASE blog")
    url = pg.url.rsplit("/", 1)[0] + "/blog"
    first = harness.Blog(url).start()  # its migration makes the tables
    first.stop()
    pg.psql("blog", "CREATE PUBLICATION recap FOR ALL TABLES")
    return url


TABLES = "users, sessions, articles, tags, article_tags, comments, favorites, activity"
_runs = itertools.count(1)


def empty(pg):
    """Empties the blog's tables; their ids start at 1000 * n (n counts the calls)."""
    start = 1000 * next(_runs)
    pg.psql("blog", f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE; " + "; ".join(
        f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), {start})"
        for t in ("users", "articles", "tags", "comments", "activity")))


@pytest.fixture(scope="module")
def runs(pg, blog_db, tmp_path_factory):
    """runs(name) -> a capture of the blog's suite run through recap on emptied tables, recorded once per
    module: "base" (its suite's tokens, cookies and passwords listed in runs.secrets), "again" (a second run
    of the same build), or a RECAP_APP_BUG switch."""
    keep = tmp_path_factory.mktemp("blog-runs")
    made = {}

    def record(name):
        if name in made:
            return made[name]
        bugs = [] if name in ("base", "again") else [name]
        empty(pg)
        app = harness.Blog(blog_db, env={"RECAP_APP_BUG": ",".join(bugs)}).start()
        r = harness.Recap(app.url, args=["--database-url", blog_db])
        try:
            r.start()
            harness.wait_http(f"{r.control}/readyz", timeout=15)
            suite = harness.Blog.run_suite(r.url, secrets_out=record.secrets if name == "base" else None)
            r.barrier()
            assert r.stop() == 0
            if not bugs:
                assert suite.returncode == 0, suite.stdout + suite.stderr + app.output()
            made[name] = str(keep / f"{name}.jsonl")
            shutil.copy(r.capture, made[name])
            return made[name]
        finally:
            r.cleanup()
            app.stop()

    record.secrets = keep / "secrets"
    return record


def replay(pg, blog_db, baseline, tmp_path, bugs=(), extra=()):
    """recap replay of baseline against a fresh blog (emptied tables, a restarted app: new signing key)."""
    empty(pg)
    app = harness.Blog(blog_db, env={"RECAP_APP_BUG": ",".join(bugs)}).start()
    try:
        return subprocess.run([harness.RECAP, "replay", baseline, "--target", app.url, "--database-url", blog_db,
                               "--capture", str(tmp_path / "new.jsonl"), "--json", str(tmp_path / "replay.json"),
                               *extra], capture_output=True, text=True, timeout=120)
    finally:
        app.stop()


def test_a_replay_against_a_fresh_database_rebuilds_every_credential(pg, blog_db, runs, tmp_path):
    base, secrets = runs("base"), runs.secrets
    out = replay(pg, blog_db, base, tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip().splitlines()[-1].startswith("SAME: 36 calls in A, 36 in B")
    assert "not sent" not in out.stdout  # every token and session cookie came from the run itself
    calls = [c for c in harness.read_capture(base)[1] if c["type"] == "call"]
    authed = [c for c in calls if c["request"]["headers"].get("authorization") == "[REDACTED]"]
    assert len(authed) >= 15 and all(c["request"]["derived"]["authorization"]["prefix"] == "Token " for c in authed)
    # ...and the new run authenticated every one of them: no 401 where the baseline had none
    new = [c for c in harness.read_capture(str(tmp_path / "new.jsonl"))[1] if c["type"] == "call"]
    assert [c["response"]["status"] for c in new] == [c["response"]["status"] for c in calls]
    assert f"credentials: {len(authed) + sum('cookie' in c['request']['headers'] for c in calls)} rebuilt" \
        in out.stdout
    # nothing secret in the baseline, the new capture or the report
    lines = [s for s in secrets.read_text().splitlines() if s]
    assert len(lines) == 6
    for f in (base, tmp_path / "new.jsonl", tmp_path / "replay.json"):
        text = open(f).read()
        assert not [s for s in lines if s in text], f


def test_a_replay_finds_the_blogs_regressions(pg, blog_db, runs, tmp_path):
    base = runs("base")
    for bug, (want, only_a) in sorted(BLOG_REGRESSIONS.items()):
        if bug == "slug_format":  # a replay sends the baseline's own "<slug>-gone": the path does not change
            want = {k: v for k, v in want.items() if k != "GET /api/articles/{article}"}
        if bug == "wrong_cascade":  # a replay sends every call: the list after the deletes shows the wrong one left
            want = dict(want, **{"GET /api/articles/{article}/comments": [
                "response.body.comments.$len"] + ["response.body.comments[]"] * 3})
            only_a = 0
        out = replay(pg, blog_db, base, tmp_path, bugs=[bug])
        assert out.returncode == 1, bug + out.stdout + out.stderr
        d = json.loads((tmp_path / "replay.json").read_text())
        got = {}
        for c in d["calls_that_differ"]:
            if c["differences"]:
                got.setdefault(c["key"], []).extend(x["where"] for x in c["differences"])
        assert {k: sorted(v) for k, v in got.items()} == {k: sorted(v) for k, v in want.items()}, bug + out.stdout
        assert (d["only_a"], d["only_b"]) == (only_a, 0), bug + out.stdout


def diff(*args):
    return subprocess.run([harness.RECAP, "diff", *args], capture_output=True, text=True, timeout=60)


def test_two_runs_of_the_suite_are_the_same_with_no_noise_file(runs):
    a, b = runs("base"), runs("again")
    calls = [c for c in harness.read_capture(a)[1] if c["type"] == "call"]
    assert len(calls) >= 30
    assert all(c["db"]["status"] == "complete" for c in calls)
    out = diff(a, b)
    assert out.returncode == 0, out.stdout + out.stderr
    n = len(calls)
    assert out.stdout.strip().splitlines()[-1] == \
        f"SAME: {n} calls in A, {n} in B: 0 aligned differ, 0 only in A, 0 only in B"


# bug -> ({key: sorted places that differ, over every call of that key}, calls only in A): exactly the
# regression and what it changes downstream, nothing else. wrong_cascade deletes the wrong comment, so the
# second delete of the suite succeeds where it should 404, the suite's test stops there, and its last call
# is never made (only in A).
BLOG_REGRESSIONS = {
    "wrong_status": ({"GET /api/tags": ["status"]}, 0),
    "missing_audit": ({"POST /api/articles/{article}/comments": ["db.public.activity.insert",
                                                                 "db.public.activity.insert[]"] * 3,
                       "GET /api/activity": ["response.body.activity.$len", "response.body.activity[]"]}, 0),
    "extra_row": ({"POST /api/articles": ["db.public.activity.insert", "db.public.activity.insert[]"] * 2,
                   "GET /api/activity": ["response.body.activity.$len"] + ["response.body.activity[]"] * 2}, 0),
    "changed_field": ({"GET /api/articles/{article}": ["response.body.article.body"] * 2}, 0),
    "wrong_cascade": ({"DELETE /api/articles/{article}/comments/{comment}": [
        "db.public.activity.insert[].entity_id", "db.public.comments.delete[].id",  # the wrong row
        "status", "response.headers.content-type", "response.body", "db.public.activity.insert",
        "db.public.comments.delete", "db.public.activity.insert[]", "db.public.comments.delete[]"]}, 1),
    "slug_format": ({"POST /api/articles": ["db.public.articles.insert[].slug"] * 2,
                     # the suite's own "<slug>-gone" path has the new format too
                     "GET /api/articles/{article}": ["request.path"]}, 0),
}


@pytest.mark.parametrize("bug", sorted(BLOG_REGRESSIONS))
def test_a_regression_in_the_blog_is_found_exactly_where_it_is(runs, tmp_path, bug):
    base, new = runs("base"), runs(bug)
    report = tmp_path / "diff.json"
    out = diff(base, new, "--json", str(report))
    assert out.returncode == 1, out.stdout + out.stderr
    d = json.loads(report.read_text())
    got = {}
    for c in d["calls_that_differ"]:
        if c["differences"]:
            got.setdefault(c["key"], []).extend(x["where"] for x in c["differences"])
    want, only_a = BLOG_REGRESSIONS[bug]
    assert {k: sorted(v) for k, v in got.items()} == {k: sorted(v) for k, v in want.items()}, out.stdout
    assert (d["only_a"], d["only_b"]) == (only_a, 0), out.stdout


# bug -> the drafted specs the calls that break fail on
DRAFT_FAILURES = {
    "wrong_status": {"GET /api/tags"},
    "missing_audit": {"POST /api/articles/{article}/comments"},
    "extra_row": {"POST /api/articles -> 201"},
    "changed_field": {"GET /api/articles/{article} -> 200"},
    "wrong_cascade": {"DELETE /api/articles/{article}/comments/{comment} -> 204"},
    "slug_format": {"POST /api/articles -> 201"},
}


def test_drafts_from_one_run_verify_the_next_and_hold_nothing_it_made(runs, tmp_path):
    base, again, secrets = runs("base"), runs("again"), runs.secrets
    drafts = tmp_path / "drafts"
    made = subprocess.run([harness.RECAP, "specgen", base, "-o", str(drafts)], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    out = subprocess.run([harness.RECAP, "verify", again, "--specs", str(drafts), "--require-spec"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip().splitlines()[-1] == "PASS: 36 calls: 36 passed, 0 failed, 0 without a spec"
    text = "".join(p.read_text() for p in sorted(drafts.iterdir()))
    assert "- name: \"POST /api/users -> 409\"" in text  # one spec per outcome
    calls = [c for c in harness.read_capture(base)[1] if c["type"] == "call"]
    run = calls[0]["request"]["body"]["user"]["username"].split("-")[1]  # what the suite made up this run
    slugs = {c["response"]["body"]["article"]["slug"] for c in calls
             if c["request"]["method"] == "POST" and c["request"]["path"] == "/api/articles"
             and c["response"]["status"] == 201}
    assert len(slugs) == 2
    generated = [s for s in secrets.read_text().splitlines() if s] + sorted(slugs) + [run]
    assert not [g for g in generated if g in text]


@pytest.mark.parametrize("bug", sorted(DRAFT_FAILURES))
def test_drafts_find_each_regression_of_the_blog(runs, tmp_path, bug):
    base = runs("base")
    drafts = tmp_path / "drafts"
    assert subprocess.run([harness.RECAP, "specgen", base, "-o", str(drafts)], capture_output=True).returncode == 0
    out = subprocess.run([harness.RECAP, "verify", runs(bug), "--specs", str(drafts),
                          "--require-spec"], capture_output=True, text=True)
    assert out.returncode == 1, out.stdout + out.stderr
    failed = {line.split('spec "')[1].split('"')[0] for line in out.stdout.splitlines()
              if line.startswith("FAIL #")}
    assert failed == DRAFT_FAILURES[bug], out.stdout
    assert "without a spec" not in out.stdout.splitlines()[-1] or " 0 without a spec" in out.stdout


def test_bad_input_one_clear_line_and_nothing_half_written(pg, blog_db, runs, app, tmp_path):
    base = runs("base")
    lines = open(base).read().splitlines(keepends=True)
    # a baseline whose derivation points at a call that does not exist
    n = next(i for i, line in enumerate(lines) if '"derived":{"authorization"' in line)
    call = json.loads(lines[n])
    call["request"]["derived"]["authorization"]["call"] = 9999
    forged = tmp_path / "forged.jsonl"
    forged.write_text("".join(lines[:n]) + json.dumps(call) + "\n" + "".join(lines[n + 1:]))
    out = replay(pg, blog_db, str(forged), tmp_path)
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.strip() == (
        f"recap: replay: {forged}:{n + 1}:1: call #{call['seq']}: its request.derived.authorization points at call "
        "9999, which is not an earlier call of this run; nothing was sent")
    assert not (tmp_path / "new.jsonl").exists()
    # a target that is another app (the first example API): stopped after five unknown routes
    out = subprocess.run([harness.RECAP, "replay", base, "--target", app.url, "--capture", str(tmp_path / "x.jsonl")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.strip() == (f"recap: replay: the target {app.url} answered 404, 405 or 501 to the first 5 "
                                  "calls the baseline had succeed: it is not the app that was recorded; nothing kept")
    assert not (tmp_path / "x.jsonl").exists() and not list(tmp_path.glob("x.jsonl.tmp*"))
    # a listen port that is taken
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = replay(pg, blog_db, base, tmp_path, extra=["--listen", f"127.0.0.1:{port}"])
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.strip() == (f"recap: replay: --listen 127.0.0.1:{port}: Address already in use; "
                                  "nothing was sent")


def test_a_replay_through_a_running_proxy_reads_the_new_run_from_its_control_api(pg, blog_db, runs, tmp_path):
    """The compose setup: recap already runs in front of the app; replay sends through it (--target its
    listener, --via its control API) and reads its own calls back from the proxy's ring."""
    base = runs("base")
    empty(pg)
    app = harness.Blog(blog_db).start()
    r = harness.Recap(app.url, args=["--database-url", blog_db])
    try:
        r.start()
        harness.wait_http(f"{r.control}/readyz", timeout=15)
        for _ in range(3):  # other traffic through the same proxy is not this replay's
            harness.wait_http(f"{r.url}/api/health")
        out = subprocess.run([harness.RECAP, "replay", base, "--target", r.url, "--via", r.control,
                              "--capture", str(tmp_path / "via.jsonl")], capture_output=True, text=True,
                             timeout=120)
        assert out.returncode == 0, out.stdout + out.stderr
        assert out.stdout.strip().splitlines()[-1].startswith("SAME: 36 calls in A, 36 in B")
        new = [c for c in harness.read_capture(str(tmp_path / "via.jsonl"))[1] if c["type"] == "call"]
        assert len(new) == 36 and all(c["db"]["status"] == "complete" for c in new)
        assert len([c for c in r.records() if c["id"].startswith("recap-replay-")]) == 36
        down = subprocess.run([harness.RECAP, "replay", base, "--target", r.url, "--via", app.url],
                              capture_output=True, text=True, timeout=60)
        assert down.returncode == 2 and down.stderr.startswith(f"recap: replay: --via {app.url}: "), down.stderr
    finally:
        r.cleanup()
        app.stop()
