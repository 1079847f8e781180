"""CDC: every committed row change reaches the capture (on its call, or as an
orphan line), decoded exactly, checked against the database itself."""
import subprocess
import threading
import time

import httpx
import psycopg2

import harness
import scenario


def cdc_recap(recap_factory, app, pg, *args):
    r = recap_factory(app.url, args=["--database-url", pg.url, *args])
    harness.wait_http(f"{r.control}/readyz", timeout=15)
    return r


def wait_for_marker(r, pg, marker="end"):
    """Commits a marker row and waits for its transaction: every earlier commit has arrived by then."""
    pg.psql("app", f"INSERT INTO event_log (message) VALUES ('{marker}')")
    deadline = time.monotonic() + 15
    def is_marker(t):
        return any(c["table"] == "event_log" and c["op"] == "insert" and c["new"]["message"] == marker
                   for c in t["changes"])

    while time.monotonic() < deadline:
        if any(is_marker(t) for t in r.transactions()):
            r.barrier()  # calls whose windows held earlier commits are written by now
            return [t for t in r.transactions() if not is_marker(t)]
        time.sleep(0.05)
    raise AssertionError(f"marker {marker} never arrived")


def changes(txs, table=None, op=None):
    return [c for t in txs for c in t["changes"]
            if (table is None or c["table"] == table) and (op is None or c["op"] == op)]


def messages_after_a_marker(r, pg, dbname):
    """Writes a 'final' row and waits (30 s at most) until recap captured it: (every event_log message recap
    captured, every message in the table)."""
    pg.psql(dbname, "INSERT INTO event_log (message) VALUES ('final')")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        got = [c["new"]["message"] for c in changes(r.transactions(), "event_log", "insert")]
        if "final" in got:
            break
        time.sleep(0.1)
    return got, pg.psql(dbname, "SELECT message FROM event_log").split()


def test_capture_holds_exactly_what_postgres_committed(db, app, recap_factory):
    r = cdc_recap(recap_factory, app, db)
    seen = scenario.run(r.url)
    assert [s[2] for s in seen] == [201, 200, 201, 200, 201, 200, 404, 409, 422, 500, 204, 200]
    txs = wait_for_marker(r, db)
    # one transaction per writing call: create org, campaign, patch, jobs, pause, delete
    assert len(txs) == 6
    assert [sorted(t["tables"]) for t in txs] == [
        ["public.organizations"], ["public.campaigns"], ["public.campaign_audit", "public.campaigns"],
        ["public.jobs"], ["public.campaign_audit", "public.campaigns"],
        ["public.campaigns", "public.jobs", "public.organizations"]]
    # the rolled-back writes (duplicate organization, 101 jobs) appear nowhere
    assert len(changes(txs, "organizations", "insert")) == 1
    assert len(changes(txs, "jobs", "insert")) == 3
    # values keep PostgreSQL semantics
    camp = changes(txs, "campaigns", "insert")[0]["new"]
    assert camp["budget"] == "1234.50"  # numeric: exact, as a string
    assert camp["settings"] == {"channel": "email"}  # jsonb: a document
    assert camp["status"] == "draft"
    assert len(camp["brief"]) == len("Spring launch. ") * 400  # TOASTable text, whole on insert
    assert isinstance(changes(txs, "jobs", "insert")[0]["new"]["id"], int)  # bigserial: a number
    assert camp["created_at"].endswith("+00")  # timestamptz: PostgreSQL's text form
    # the trigger's audit rows, checked against the table itself
    audit_db = db.psql("app", "SELECT count(*) FROM campaign_audit").strip()
    assert len(changes(txs, "campaign_audit", "insert")) == int(audit_db) == 2
    # default replica identity: updates carry no old row, deletes the key only
    upd = changes(txs, "campaigns", "update")[0]
    assert upd["old_image"] == "none" and "old" not in upd
    assert upd["new"]["status"] == "active"
    assert "brief" not in upd["new"] and upd["toast_unchanged"] == ["brief"]  # never invented
    dels = changes(txs, op="delete")
    assert sorted(c["table"] for c in dels) == ["campaigns", "jobs", "jobs", "jobs", "organizations"]
    assert all(c["old_image"] == "key" and list(c["key"]) == ["id"] for c in dels)
    # every row change the database made, compared row by row for one table
    with psycopg2.connect(db.url) as conn, conn.cursor() as cur:
        cur.execute("SELECT id, old_status, new_status FROM campaign_audit ORDER BY id")
        rows = cur.fetchall()
    assert [(c["new"]["id"], c["new"]["old_status"], c["new"]["new_status"])
            for c in changes(txs, "campaign_audit", "insert")] == rows
    # the scenario's calls run one after another: each transaction is on exactly its call
    calls = r.records()
    assert {c["db"]["status"] for c in calls} == {"complete"}
    on_calls = [t for c in calls for t in c["db"]["transactions"]]
    assert len(on_calls) == 6 and {t["attribution"] for t in on_calls} == {"window"}
    assert all(c["db"]["transactions"] == [] for c in calls if c["request"]["method"] == "GET")
    header = harness.read_capture(r.capture)[0]
    assert header["database"] == db.url


def test_replica_identity_full_gives_old_rows_and_toast(db, app, recap_factory):
    db.psql("app", "ALTER TABLE campaigns REPLICA IDENTITY FULL")
    r = cdc_recap(recap_factory, app, db)
    c = httpx.Client(base_url=r.url)
    org = c.post("/api/v1/organizations", json={"name": "full"}).json()
    camp = c.post(f"/api/v1/organizations/{org['id']}/campaigns",
                  json={"name": "c", "budget": "123456789012.99", "brief": "x" * 30000}).json()
    c.patch(f"/api/v1/campaigns/{camp['id']}", json={"status": "paused"})
    c.delete(f"/api/v1/campaigns/{camp['id']}")
    txs = wait_for_marker(r, db)
    upd = changes(txs, "campaigns", "update")[0]
    assert upd["old_image"] == "full"
    assert upd["old"]["status"] == "draft" and upd["new"]["status"] == "paused"
    assert sorted(upd["changed"]) == ["status", "updated_at"]
    assert upd["new"]["brief"] == "x" * 30000  # carried from the old row, not invented
    assert upd["new"]["budget"] == "123456789012.99"
    dele = changes(txs, "campaigns", "delete")[0]
    assert dele["old_image"] == "full" and dele["old"]["status"] == "paused"


def test_truncate_is_recorded(db, app, recap_factory):
    r = cdc_recap(recap_factory, app, db)
    db.psql("app", "INSERT INTO organizations (name) VALUES ('t1'), ('t2')")
    db.psql("app", "TRUNCATE organizations RESTART IDENTITY CASCADE")
    txs = wait_for_marker(r, db)
    assert len(changes(txs, "organizations", "insert")) == 2
    tr = changes(txs, op="truncate")
    assert {c["table"] for c in tr} >= {"organizations", "campaigns", "jobs"}
    assert all(c["cascade"] and c["restart_identity"] for c in tr)


def test_no_publication_means_not_ready_and_calls_still_flow(pg, app, recap_factory):
    pg.psql("app", "DROP PUBLICATION IF EXISTS recap")
    r = recap_factory(app.url, args=["--database-url", pg.url])
    assert httpx.get(f"{r.url}/api/v1/health").status_code == 200
    status, body, _ = r.control_request("GET", "/readyz")
    assert status == 503 and b"not streaming" in body
    r.barrier()
    (rec,) = r.records()
    assert rec["db"]["status"] == "unavailable"
    time.sleep(0.3)
    assert 'publication "recap" does not exist: run `recap db setup` first' in r.stderr()


def test_wal_level_not_logical_is_said_clearly(app, recap_factory):
    other = harness.Postgres(wal_level="replica")
    try:
        other.start()
        r = recap_factory(app.url, args=["--database-url", other.url])
        time.sleep(0.5)
        assert r.control_request("GET", "/readyz")[0] == 503
        assert "wal_level is replica; recap needs wal_level=logical" in r.stderr()
    finally:
        other.stop()


def metric(r, name):
    _, body, _ = r.control_request("GET", "/metrics")
    return int(next(l for l in body.decode().splitlines() if l.startswith(name + " ")).split()[1])


def reconnects(r):
    return metric(r, "recap_cdc_reconnects_total")


def wait_until(cond, timeout=15):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_walsender_killed_persistent_slot_loses_nothing(db, app, recap_factory):
    r = cdc_recap(recap_factory, app, db, "--slot", "recap_e2e")
    try:
        conn = psycopg2.connect(db.url)
        conn.autocommit = True
        cur = conn.cursor()
        n = 300
        for i in range(n):
            cur.execute("INSERT INTO event_log (message) VALUES (%s)", (f"row-{i}",))
            if i % 60 == 30:
                before = reconnects(r)
                cur.execute("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots "
                            "WHERE slot_name = 'recap_e2e' AND active_pid IS NOT NULL")
                wait_until(lambda: reconnects(r) > before)  # it noticed, and is back:
                harness.wait_http(f"{r.control}/readyz", timeout=15)
            # calls keep flowing while the stream is down
            if i % 60 == 31:
                assert httpx.get(f"{r.url}/api/v1/health").status_code == 200
        txs = wait_for_marker(r, db, marker="final")
        got = [c["new"]["message"] for c in changes(txs, "event_log", "insert")]
        assert sorted(got) == sorted(f"row-{i}" for i in range(n))  # every one, exactly once
        assert reconnects(r) == 5
    finally:
        r.stop()
        db.psql("app", "SELECT pg_drop_replication_slot('recap_e2e') FROM pg_replication_slots "
                       "WHERE slot_name = 'recap_e2e'")


def rows_writer(url):
    """A thread committing 500 transactions of 10 rows each, going on through outages (the row set in the table
    decides what was committed); (thread, event set when done)."""
    done = threading.Event()

    def writer():
        conn, i = None, 0
        while i < 500:
            try:
                if conn is None or conn.closed:
                    conn = psycopg2.connect(url, connect_timeout=2)
                with conn, conn.cursor() as cur:
                    cur.execute("INSERT INTO event_log (message) SELECT %s || '-' || g "
                                "FROM generate_series(1, 10) g", (f"t{i}",))
                i += 1
            except psycopg2.Error:  # the server went away
                conn = None
                time.sleep(0.05)
        done.set()

    t = threading.Thread(target=writer)
    t.start()
    return t, done


def test_faults_5000_changes_10_kills_and_a_crash_lose_nothing(app, recap_factory):
    """A persistent slot; the walsender killed 10 times and PostgreSQL crashed and restarted once while
    5,000 rows are committed: afterwards the capture holds every committed row exactly once, checked
    against the table, and calls kept flowing through the proxy during the outages."""
    pg = harness.Postgres("faults")
    pg.start()
    try:
        assert subprocess.run([harness.RECAP, "db", "setup", "--database-url", pg.url, "--slot", "recap_faults"],
                              capture_output=True).returncode == 0
        r = recap_factory(app.url, args=["--database-url", pg.url, "--slot", "recap_faults"])
        harness.wait_http(f"{r.control}/readyz", timeout=15)
        t, done = rows_writer(pg.url)
        kills = 0
        while kills < 10:
            before = reconnects(r)
            pg.psql("faults",
                    "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots "
                    "WHERE slot_name = 'recap_faults' AND active_pid IS NOT NULL")
            wait_until(lambda: reconnects(r) > before)
            assert httpx.get(f"{r.url}/api/v1/echo").status_code == 200  # proxying goes on
            harness.wait_http(f"{r.control}/readyz", timeout=20)
            kills += 1
            if kills == 5:
                pg.restart("immediate")  # a crash: the slot's confirmed position may go back
                assert httpx.get(f"{r.url}/api/v1/echo").status_code == 200
                harness.wait_http(f"{r.control}/readyz", timeout=30)
            time.sleep(0.1)
        t.join(120)
        assert done.is_set()
        got, in_db = messages_after_a_marker(r, pg, "faults")
        assert len(in_db) >= 5001
        assert sorted(got) == sorted(in_db)  # 0 lost, 0 duplicated
        assert reconnects(r) >= 11
    finally:
        pg.stop()


def test_a_million_row_transaction_in_bounded_memory(db, app, recap_factory):
    r = cdc_recap(recap_factory, app, db)
    db.psql("app", "INSERT INTO event_log (message) SELECT 'r' || g FROM generate_series(1, 1000000) g")
    deadline = time.monotonic() + 120
    big = None
    while time.monotonic() < deadline and big is None:
        for t in r.transactions():
            if t["tables"].get("public.event_log", {}).get("insert") == 1000000:
                big = t
        time.sleep(0.2)
    assert big is not None
    assert big["changes_total"] == 1000000
    assert big["images_truncated"] is True
    assert len(big["changes"]) == 10000  # --max-tx-rows default
    with open(f"/proc/{r.proc.pid}/status") as f:
        peak_kb = int(next(l for l in f if l.startswith("VmHWM")).split()[1])
    print(f"recap peak RSS after a 1,000,000-row transaction: {peak_kb} kB")
    assert peak_kb < 256 * 1024, f"peak RSS {peak_kb} kB"
    # the slot keeps advancing: PostgreSQL has been told the transaction is durable
    end = big["end_lsn"]
    wait_until(lambda: db.psql("app", f"SELECT bool_and(confirmed_flush_lsn >= '{end}') FROM pg_replication_slots "
                                      "WHERE slot_name LIKE 'recap_%'").strip() == "t", timeout=10)


def test_restarted_proxy_resumes_after_its_capture_without_duplicates(db, app, recap_factory, tmp_path):
    cap = str(tmp_path / "c.jsonl")
    subprocess.run([harness.RECAP, "db", "setup", "--database-url", db.url, "--slot", "recap_resume"], check=True,
                   capture_output=True)
    r1 = recap_factory(app.url, capture=cap, args=["--database-url", db.url, "--slot", "recap_resume"])
    harness.wait_http(f"{r1.control}/readyz", timeout=15)
    db.psql("app", "INSERT INTO event_log (message) SELECT 'a' || g FROM generate_series(1, 50) g")
    wait_for_marker(r1, db, marker="m1")
    # stop without letting the slot learn the last position: kill hard
    r1.proc.kill()
    r1.proc.wait()
    db.psql("app", "INSERT INTO event_log (message) SELECT 'b' || g FROM generate_series(1, 50) g")
    r2 = recap_factory(app.url, capture=cap, args=["--database-url", db.url, "--slot", "recap_resume"])
    harness.wait_http(f"{r2.control}/readyz", timeout=15)
    txs = wait_for_marker(r2, db, marker="m2")
    got = [c["new"]["message"] for c in changes(txs, "event_log", "insert")]
    want = [f"a{i}" for i in range(1, 51)] + ["m1"] + [f"b{i}" for i in range(1, 51)]
    assert sorted(got) == sorted(want)  # nothing lost, nothing twice, across a proxy crash
    r2.stop()
    db.psql("app", "SELECT pg_drop_replication_slot('recap_resume')")


def test_tag_mode_names_the_call_in_each_transaction(db, recap_factory):
    """The example app with integrations/fastapi/recap_tag.py switched on: every transaction a call
    commits carries that call's X-Request-Id, as injected by recap."""
    tagged_app = harness.App(db.url, env={"RECAP_APP_TAG": "1"})
    tagged_app.start()
    try:
        r = cdc_recap(recap_factory, tagged_app, db)
        scenario.run(r.url)
        txs = wait_for_marker(r, db)
        r.barrier()
        calls = {c["id"]: c for c in r.records()}
        assert len(txs) == 6
        for t in txs:
            call = calls[t["tag"]]  # the tag is a call's id
            assert call["request"]["method"] in ("POST", "PATCH", "DELETE")
        by_path = [(calls[t["tag"]]["request"]["method"], calls[t["tag"]]["response"]["status"]) for t in txs]
        assert by_path == [("POST", 201), ("POST", 201), ("PATCH", 200), ("POST", 201), ("POST", 200),
                           ("DELETE", 204)]
    finally:
        tagged_app.stop()


def test_a_full_writer_queue_slows_the_stream_and_loses_nothing(db, app, recap_factory):
    """With a 16 KiB queue, 2,000 one-row transactions push the stream into backpressure:
    every one still arrives, in commit order."""
    r = cdc_recap(recap_factory, app, db, "--queue-bytes", "16KiB")
    db.psql("app", "DO $$ BEGIN FOR i IN 1..2000 LOOP INSERT INTO event_log (message) VALUES ('q' || i); "
                   "COMMIT; END LOOP; END $$")
    txs = wait_for_marker(r, db, marker="q-end")
    got = [c["new"]["message"] for c in changes(txs, "event_log", "insert")]
    assert got == [f"q{i}" for i in range(1, 2001)]
    assert metric(r, "recap_cdc_backpressure_waits_total") > 0  # the pause did happen


def test_the_default_configuration_loses_and_repeats_nothing(app, recap_factory, tmp_path):
    """No --slot (recap's own slot for the run): 5,000 rows committed while the walsender is killed 10 times,
    PostgreSQL is restarted fast and then immediately (a crash), and recap itself is killed -9 and started
    again on the same capture: every row is in the capture exactly once. Afterwards `pg_ctl stop -m fast`
    completes with recap attached."""
    pg = harness.Postgres("dfaults")
    pg.start()
    cap = str(tmp_path / "c.jsonl")
    try:
        assert subprocess.run([harness.RECAP, "db", "setup", "--database-url", pg.url],
                              capture_output=True).returncode == 0
        r = recap_factory(app.url, capture=cap, args=["--database-url", pg.url])
        harness.wait_http(f"{r.control}/readyz", timeout=15)
        t, done = rows_writer(pg.url)
        for kill in range(1, 11):
            pg.psql("dfaults", "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots "
                               "WHERE slot_name LIKE 'recap_run_%' AND active_pid IS NOT NULL")
            if kill == 3:
                pg.restart("fast")
            if kill == 6:
                pg.restart("immediate")  # a crash: the slot's confirmed position may go back
            if kill == 8:  # recap itself dies; a new one on the same capture takes over its slot
                r.proc.kill()
                r.proc.wait()
                r = recap_factory(app.url, capture=cap, args=["--database-url", pg.url])
            assert httpx.get(f"{r.url}/api/v1/echo").status_code == 200  # proxying goes on
            harness.wait_http(f"{r.control}/readyz", timeout=30)
            time.sleep(0.2)
        t.join(180)
        assert done.is_set()
        got, in_db = messages_after_a_marker(r, pg, "dfaults")
        assert len(in_db) == 5001
        assert sorted(got) == sorted(in_db)  # 0 lost, 0 duplicated
        t0 = time.monotonic()
        stop = subprocess.run(pg._as_owner([f"{harness.PG_BIN}/pg_ctl", "-D", pg.data, "-m", "fast", "-w", "-t",
                                            "30", "stop"]), capture_output=True, text=True)
        assert stop.returncode == 0 and time.monotonic() - t0 < 5, (time.monotonic() - t0, stop.stderr)
        pg.running = False
    finally:
        pg.stop()


def test_a_window_holding_more_than_the_queue_never_stalls_the_stream(db, app, recap_factory):
    """A slow call's window holds a 3 MB row, more than --queue-bytes 1MiB: the stream goes on reading (the
    fence that closes the window comes through it), the call is recorded complete with the row, later
    transactions arrive, and a stop drops nothing."""
    r = cdc_recap(recap_factory, app, db, "--queue-bytes", "1MiB")
    slow = threading.Thread(target=lambda: httpx.get(f"{r.url}/api/v1/slow?ms=2500", timeout=30))
    slow.start()
    time.sleep(0.5)
    db.psql("app", "INSERT INTO event_log (message) VALUES (repeat('x', 3000000))")
    for i in range(20):
        db.psql("app", f"INSERT INTO event_log (message) VALUES ('after{i}')")
    slow.join(30)
    txs = wait_for_marker(r, db, marker="stall-end")
    got = [c["new"]["message"] for c in changes(txs, "event_log", "insert")]
    assert [m for m in got if m.startswith("after")] == [f"after{i}" for i in range(20)]
    r.barrier()
    (call,) = [c for c in r.records() if c["request"]["path"] == "/api/v1/slow"]
    assert call["db"]["status"] == "complete"
    assert any(len(ch["new"]["message"]) == 3000000 for t in call["db"]["transactions"] for ch in t["changes"])
    assert r.stop() == 0
    assert "records dropped" not in r.stderr() and ", 0 dropped" in r.stderr()
