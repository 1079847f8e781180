"""Per-test isolation (--recap-isolate, POST /rewind): a suite whose tests leak rows and change seeded rows
passes in both orders with it, fails in one without it, and leaves the database as it found it; a rewind
that cannot be exact is refused with its reason, and the rewind itself is never recorded."""
import json
import os
import subprocess

import harness

SUITE = os.path.join(harness.ROOT, "tests", "plugin_isolate")
TESTS = "test_isolated.py::"


def run_suite(r, pg, *args, reverse=False):
    env = dict(os.environ, API_BASE_URL=r.url, DATABASE_URL=pg.url, REVERSE="1" if reverse else "0",
               PYTHONPATH=os.path.join(harness.ROOT, "integrations", "pytest"))
    return subprocess.run(["/usr/bin/python3", "-m", "pytest", "-p", "recap_pytest", "-p", "no:cacheprovider",
                           "-q", "-rf", "--rootdir", SUITE, SUITE, "--recap-control", r.control, "--recap-url", r.url,
                           *args], capture_output=True, text=True, cwd=SUITE, env=env, timeout=300)


def data(pg):
    """Every table's rows, as pg_dump writes them; sequences aside (a rewind does not reset them)."""
    out = subprocess.run(["pg_dump", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "--data-only",
                          "--inserts", "--rows-per-insert=1", "app"], check=True, capture_output=True, text=True)
    rows = sorted(line for line in out.stdout.splitlines() if line.startswith("INSERT INTO"))
    assert rows  # the comparison is about something
    return rows


def empty(pg):
    pg.psql("app", "TRUNCATE organizations, campaigns, jobs, campaign_audit, event_log CASCADE")


def test_the_suite_passes_in_both_orders_only_with_isolation(pg, app, recap_factory):
    empty(pg)
    pg.psql("app", "DROP PUBLICATION IF EXISTS recap")
    setup = subprocess.run([harness.RECAP, "db", "setup", "--replica-identity-full", "--database-url", pg.url],
                           capture_output=True, text=True, timeout=60)
    assert setup.returncode == 0, setup.stderr
    try:
        pg.psql("app", "INSERT INTO organizations (name) VALUES ('kept from before the suite')")
        r = recap_factory(app.url, args=["--database-url", pg.url])
        harness.wait_http(f"{r.control}/readyz", timeout=15)
        before = data(pg)
        for reverse in (False, True):
            out = run_suite(r, pg, "--recap-isolate", reverse=reverse)
            assert out.returncode == 0, out.stdout + out.stderr
            assert "8 passed" in out.stdout, out.stdout
            assert data(pg) == before  # every row as it was, the suite's own seed gone too
        rewinds = [line for line in r.control_request("GET", "/metrics")[1].decode().splitlines()
                   if line.startswith("recap_rewind_transactions_total")]
        # four tests of eight change rows (three through calls, one through a fixture), in each of two runs
        assert rewinds == ["recap_rewind_transactions_total 8"]
        r.barrier()
        # the rewinds are nobody's: no orphan and no call holds them; every orphan is the seed's or a fixture's
        orphans = r.records("orphan")
        assert len(orphans) == 2 * 6, orphans  # seed: two orgs, two campaigns, one delete; a scratch row
        assert sorted({o.get("test") for o in orphans}) == ["session fixture seeded",
                                                           TESTS + "test_a_fixture_writes_a_row"]
        for call in r.records():
            for tx in call["db"].get("transactions", []):
                assert tx.get("attribution") != "ambiguous"
        # the seed's rows went in and out under the fixture's label, never rewound with the first test
        seed_rows = [ch["op"] for o in orphans if o.get("test") == "session fixture seeded" for ch in o["changes"]]
        assert sorted(seed_rows) == sorted(["insert"] * 4 * 2 + ["delete"] * 4 * 2)  # the campaigns by cascade

        # without isolation the suite passes in reverse order and fails in file order: order dependence
        out = run_suite(r, pg, reverse=True)
        assert out.returncode == 0, out.stdout + out.stderr
        empty(pg)
        out = run_suite(r, pg)
        assert out.returncode == 1, out.stdout + out.stderr
        failed = sorted(line.split()[1] for line in out.stdout.splitlines() if line.startswith("FAILED"))
        assert failed == [TESTS + t for t in ("test_no_acme_yet", "test_the_campaign_is_active_and_never_audited",
                                              "test_the_event_log_is_empty", "test_the_organization_is_whole")], \
            out.stdout
    finally:
        empty(pg)
        pg.psql("app", "DROP PUBLICATION IF EXISTS recap")


def test_a_rewind_that_cannot_be_exact_is_refused_and_changes_nothing(pg, app, recap_factory):
    empty(pg)
    pg.psql("app", "DROP PUBLICATION IF EXISTS recap; CREATE PUBLICATION recap FOR ALL TABLES")
    pg.psql("app", "ALTER TABLE organizations REPLICA IDENTITY DEFAULT")
    try:
        pg.psql("app", "INSERT INTO organizations (name) VALUES ('seeded')")
        r = recap_factory(app.url, args=["--database-url", pg.url])
        harness.wait_http(f"{r.control}/readyz", timeout=15)
        post = lambda path: (lambda s, b, h: (s, json.loads(b)))(*r.control_request("POST", path))  # noqa: E731

        # a transaction committed while two tests ran: whose it is cannot be told
        assert post("/tests/begin?test=a")[0] == 200 and post("/tests/begin?test=b")[0] == 200
        pg.psql("app", "INSERT INTO event_log (message) VALUES ('written while a and b ran')")
        status, answer = post("/rewind?test=a")
        assert status == 409, answer
        assert "was committed while 2 tests ran: whose it is cannot be told" in answer["error"]
        assert pg.psql("app", "SELECT count(*) FROM event_log").strip() == "1"  # nothing was undone
        assert post("/tests/end?test=b")[0] == 200

        # an update whose old row PostgreSQL did not send (REPLICA IDENTITY DEFAULT)
        assert post("/tests/begin?test=c")[0] == 200
        pg.psql("app", "UPDATE organizations SET name = 'renamed'")
        status, answer = post("/rewind?test=c")
        assert status == 409 and "--replica-identity-full" in answer["error"], answer
        assert pg.psql("app", "SELECT name FROM organizations").strip() == "renamed"

        # a row the rewind would delete that something else changed since: the whole rewind rolls back
        assert post("/tests/begin?test=d")[0] == 200
        pg.psql("app", "INSERT INTO event_log (message) VALUES ('d one'); INSERT INTO event_log (message) "
                       "VALUES ('d two')")
        assert post("/tests/end?test=d")[0] == 200
        pg.psql("app", "UPDATE event_log SET message = 'changed by someone else' WHERE message = 'd two'")
        status, answer = post("/rewind?test=d")
        assert status == 409 and "is not as the test left it" in answer["error"], answer
        assert pg.psql("app", "SELECT count(*) FROM event_log WHERE message LIKE 'd %'").strip() == "1"
        # bad requests
        assert r.control_request("POST", "/rewind")[0] == 400
        assert r.control_request("POST", "/rewind?test=x&since=soon")[0] == 400
    finally:
        pg.psql("app", "ALTER TABLE organizations REPLICA IDENTITY DEFAULT")
        empty(pg)
        pg.psql("app", "DROP PUBLICATION IF EXISTS recap")


def test_without_a_superuser_the_rewind_says_what_to_grant(pg, app, recap_factory):
    empty(pg)
    pg.psql("app", "DROP PUBLICATION IF EXISTS recap; CREATE PUBLICATION recap FOR ALL TABLES")
    pg.psql("app", "DROP ROLE IF EXISTS tester; CREATE ROLE tester LOGIN REPLICATION; "
                   "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO tester")
    url = pg.url.replace("postgres@", "tester@")
    try:
        r = recap_factory(app.url, args=["--database-url", url])
        harness.wait_http(f"{r.control}/readyz", timeout=15)
        assert r.control_request("POST", "/tests/begin?test=t")[0] == 200
        pg.psql("app", "INSERT INTO event_log (message) VALUES ('to undo')")
        status, body, _ = r.control_request("POST", "/rewind?test=t")
        assert status == 409, body
        assert "GRANT SET ON PARAMETER session_replication_role" in json.loads(body)["error"]
        assert pg.psql("app", "SELECT count(*) FROM event_log").strip() == "1"
        pg.psql("app", "GRANT SET ON PARAMETER session_replication_role TO tester")
        status, body, _ = r.control_request("POST", "/rewind?test=t")
        assert status == 200, body
        assert json.loads(body)["tables"] == {"public.event_log": {"deleted": 1, "updated": 0, "inserted": 0}}
        assert pg.psql("app", "SELECT count(*) FROM event_log").strip() == "0"
    finally:
        r.stop()
        empty(pg)
        pg.psql("app", "DROP PUBLICATION IF EXISTS recap; DROP OWNED BY tester; DROP ROLE tester")


def test_under_xdist_rows_labelled_or_tagged_are_rewound_exactly(db, recap_factory):
    """16 tests under -n 4, each writing through a fixture and through the API: in tag mode with the fixture's
    transaction labelled (recap_pytest.label), every rewind is exact and the database ends as it began; with the
    fixture unlabelled, a transaction committed while other tests ran is refused with its reason."""
    suite = os.path.join(harness.ROOT, "tests", "plugin_isolate_xdist")
    app = harness.App(db.url, env={"RECAP_APP_TAG": "1"}).start()
    try:
        db.psql("app", "INSERT INTO organizations (name) VALUES ('kept from before the suite')")
        r = recap_factory(app.url, args=["--database-url", db.url])
        harness.wait_http(f"{r.control}/readyz", timeout=15)
        before = data(db)

        def run(label):
            env = dict(os.environ, API_BASE_URL=r.url, DATABASE_URL=db.url, LABEL=label,
                       PYTHONPATH=os.path.join(harness.ROOT, "integrations", "pytest"))
            return subprocess.run(["/usr/bin/python3", "-m", "pytest", "-p", "recap_pytest", "-p", "no:cacheprovider",
                                   "-q", "-n", "4", "--rootdir", suite, suite, "--recap-control", r.control,
                                   "--recap-url", r.url, "--recap-isolate"], capture_output=True, text=True, cwd=suite,
                                  env=env, timeout=300)

        out = run("1")
        assert out.returncode == 0 and "16 passed" in out.stdout and "error" not in out.stdout, out.stdout
        assert data(db) == before
        orphans = r.records("orphan")
        assert len(orphans) == 16 and all(o["test"].startswith("test_parallel.py::") for o in orphans)
        assert all(c["db"]["attribution"] == "tag" for c in r.records() if c["request"]["method"] == "POST")
        out = run("0")
        assert out.returncode == 1, out.stdout
        assert "tests ran: whose it is cannot be told" in out.stdout, out.stdout
    finally:
        app.stop()
        empty(db)
