"""recap db setup | status | teardown against a real PostgreSQL."""
import os
import subprocess
import time

import httpx

import psycopg2
import pytest

import harness
from harness import RECAP


def db(*args, url=None, env=None):
    cmd = [RECAP, "db", *args] + (["--database-url", url] if url else [])
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30, env=dict(os.environ, **(env or {})))


@pytest.fixture
def clean(pg):
    pg.psql("app", "DROP PUBLICATION IF EXISTS recap; " + harness.RESET_IDENTITY)
    yield pg
    pg.psql("app", "DROP PUBLICATION IF EXISTS recap; " + harness.RESET_IDENTITY)
    pg.psql("app", "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                   "WHERE slot_name = 'recap_admin'")


def test_setup_keeps_tables_without_a_key_updatable(clean):
    pg = clean
    r = db("setup", url=pg.url)
    assert r.returncode == 0, r.stderr
    assert "public.event_log: REPLICA IDENTITY FULL (it has no primary key" in r.stdout
    assert "publication recap: 5 tables" in r.stdout
    # the app's own UPDATE and DELETE on the table without a primary key still work
    with psycopg2.connect(pg.url) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO event_log (message) VALUES ('a')")
        cur.execute("UPDATE event_log SET message = 'b' WHERE message = 'a'")
        cur.execute("DELETE FROM event_log WHERE message = 'b'")
        assert cur.rowcount == 1
    tables = pg.psql("app", "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_publication_tables "
                            "WHERE pubname = 'recap'").strip()
    assert tables == "campaign_audit,campaigns,event_log,jobs,organizations"
    # idempotent
    assert db("setup", url=pg.url).returncode == 0


def test_setup_with_tables_full_identity_slot_then_status_and_teardown(clean):
    pg = clean
    r = db("setup", "--tables", "campaigns,public.jobs", "--replica-identity-full", "--slot", "recap_admin",
           url=pg.url)
    assert r.returncode == 0, r.stderr
    assert "public.campaigns: REPLICA IDENTITY FULL\n" in r.stdout
    assert "publication recap: 2 tables (public.campaigns, public.jobs)" in r.stdout
    assert "slot recap_admin: created" in r.stdout
    s = db("status", env={"RECAP_DATABASE_URL": pg.url})
    assert s.returncode == 0, s.stderr
    assert "wal_level: logical" in s.stdout
    assert "publication recap: 2 tables" in s.stdout
    assert "public.campaigns  replica identity full" in s.stdout
    assert "recap_admin  persistent, inactive" in s.stdout
    t = db("teardown", "--slot", "recap_admin", url=pg.url)
    assert t.returncode == 0, t.stderr
    assert "publication recap: dropped" in t.stdout and "slot recap_admin: dropped" in t.stdout
    assert "publication recap: missing" in db("status", url=pg.url).stdout


def test_clear_errors(clean):
    pg = clean
    r = db("setup", "--tables", "campaigns,nope", url=pg.url)
    assert r.returncode == 2 and r.stderr == "recap: db: --tables: no such table: nope\n"
    r = db("setup", "--wait", "0", url=f"postgresql://postgres@127.0.0.1:{harness.free_port()}/app")
    assert r.returncode == 2 and r.stderr.startswith("recap: db: cannot connect to the database")
    assert r.stderr.count("\n") == 1
    assert db("frobnicate", url=pg.url).returncode == 2
    assert db("setup").stderr == "recap: db: no database: give --database-url URL or set RECAP_DATABASE_URL\n"
    # an ordinary role without ownership: permission is explained
    pg.psql("app", "DROP ROLE IF EXISTS plain; CREATE ROLE plain LOGIN")
    r = db("setup", url=pg.url.replace("postgres@", "plain@"))
    assert r.returncode == 2
    assert r.stderr == ("recap: db: must be owner of table event_log (needs ownership of the tables and "
                        "CREATE on the database; slots need the REPLICATION attribute)\n"), r.stderr


def test_wal_level_replica_is_refused(tmp_path):
    other = harness.Postgres(wal_level="replica")
    try:
        other.start()
        r = db("setup", url=other.url)
        assert r.returncode == 2
        assert r.stderr.startswith("recap: db: wal_level is replica; recap needs wal_level=logical")
    finally:
        other.stop()


def test_tables_made_after_setup_and_after_recap_started_are_watched(recap_factory):
    """An app that makes its schema when it starts and adds a table in a later migration: `recap db setup` run
    on the empty database, recap started before the app; calls after each step show their rows, also in a
    keyless table made later (whose UPDATE and DELETE keep working for the app); `db status` names what is
    not watched."""
    pg = harness.Postgres("late")
    pg.start()
    try:
        pg.psql("postgres", "CREATE DATABASE empty")
        url = pg.url.rsplit("/", 1)[0] + "/empty"
        setup = subprocess.run([harness.RECAP, "db", "setup", "--database-url", url], capture_output=True, text=True)
        assert setup.returncode == 0, setup.stderr
        assert "publication recap: no tables yet" in setup.stdout and "published as they are created" in setup.stdout
        app = harness.App(url)
        r = recap_factory(app.url, args=["--database-url", url])
        harness.wait_http(f"{r.control}/readyz", timeout=15)
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(pg.port), "-U",
                        "postgres", "-d", "empty", "-f", os.path.join(harness.ROOT, "tests", "app", "schema.sql")],
                       check=True, capture_output=True)  # the app's schema, made as it starts
        app.start()
        try:
            c = httpx.Client(base_url=r.url)
            assert c.post("/api/v1/organizations", json={"name": "early"}).status_code == 201
            pg.psql("empty", """
                CREATE TABLE task_events (org_id integer, note text);
                CREATE FUNCTION note_org() RETURNS trigger LANGUAGE plpgsql AS $$
                  BEGIN INSERT INTO task_events VALUES (NEW.id, 'created'); RETURN NEW; END $$;
                CREATE TRIGGER note_org AFTER INSERT ON organizations FOR EACH ROW EXECUTE FUNCTION note_org();
                """)  # a later migration: a keyless table, filled by a trigger
            assert c.post("/api/v1/organizations", json={"name": "late"}).status_code == 201
            pg.psql("empty", "UPDATE task_events SET note = 'seen'; DELETE FROM task_events WHERE org_id = 1")
            r.barrier()
        finally:
            app.stop()
        calls = r.records()
        tables = [[f"{ch['table']}:{ch['op']}" for t in call["db"]["transactions"] for ch in t["changes"]]
                  for call in calls]
        assert tables == [["organizations:insert"], ["organizations:insert", "task_events:insert"]], tables
        pg.psql("empty", "CREATE UNLOGGED TABLE scratch (id int)")  # no replication can see it: named at once
        for _ in range(100):
            if "cdc: table public.scratch appeared and is not watched" in r.stderr():
                break
            time.sleep(0.1)
        assert "cdc: table public.scratch appeared and is not watched: its changes are not recorded" in r.stderr()
        assert "recap_cdc_unwatched_tables 1" in httpx.get(f"{r.control}/metrics").text.splitlines()
        status = subprocess.run([harness.RECAP, "db", "status", "--database-url", url], capture_output=True,
                                text=True)
        assert "not watched: 1 tables" in status.stdout and "public.scratch  (unlogged" in status.stdout, status.stdout
        r.stop()
        again = recap_factory(app.url, args=["--database-url", url])  # the proxy says so too, when it connects
        harness.wait_http(f"{again.control}/readyz", timeout=15)
        assert "cdc: 1 table is not watched (their changes are not recorded; run `recap db setup` again): " \
               "public.scratch" in again.stderr(), again.stderr()
        pg.psql("empty", "SELECT pg_terminate_backend(pid) FROM pg_stat_replication WHERE application_name = 'recap'")
        for _ in range(100):  # reconnected
            metrics = httpx.get(f"{again.control}/metrics").text
            if "recap_cdc_reconnects_total 1" in metrics.splitlines() and "recap_cdc_streaming 1" in metrics:
                break
            time.sleep(0.1)
        assert "recap_cdc_reconnects_total 1" in metrics.splitlines(), metrics
        assert "recap_cdc_unwatched_tables 1" in metrics.splitlines(), metrics
        assert again.stderr().count("not watched") == 1, again.stderr()  # said once, not at every reconnect
        assert r.stderr().count("not watched") == 1  # everything was watched when it connected; scratch came later
        again.stop()
    finally:
        pg.stop()


def test_partitioned_tables_are_named_by_the_table_and_stay_writable(recap_factory):
    """A partitioned table (events by year, with a key; logs without one) under a publication a team made FOR
    ALL TABLES: the proxy says its changes come by partition name; setup names them by the table
    (publish_via_partition_root) and gives keyless partitions, existing and made later, REPLICA IDENTITY FULL,
    so the app's UPDATE and DELETE keep working; every change is then recorded under events or logs."""
    pg = harness.Postgres("parts")
    pg.start()
    try:
        pg.psql("parts", """
            CREATE TABLE events (id bigserial, at date NOT NULL, kind text, PRIMARY KEY (id, at))
              PARTITION BY RANGE (at);
            CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
            CREATE TABLE events_2027 PARTITION OF events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
            CREATE TABLE logs (msg text, at date NOT NULL) PARTITION BY RANGE (at);
            CREATE TABLE logs_2026 PARTITION OF logs FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
            CREATE UNLOGGED TABLE scratch (id int);
            CREATE PUBLICATION recap FOR ALL TABLES;""")
        before = recap_factory("http://127.0.0.1:9", args=["--database-url", pg.url])
        harness.wait_http(f"{before.control}/readyz", timeout=15)
        assert ("cdc: publication recap names the changes of partitioned tables by their partitions, not by the "
                "table (public.events, public.logs): `recap db setup` sets publish_via_partition_root"
                in before.stderr()), before.stderr()
        assert "public.events" not in before.stderr().split("not watched")[-1].split("\n")[0]  # watched
        before.stop()
        setup = db("setup", url=pg.url)  # an unlogged table is left out, not an error
        assert setup.returncode == 0, setup.stderr
        assert "public.logs_2026: REPLICA IDENTITY FULL (it has no primary key" in setup.stdout, setup.stdout
        assert "FOR ALL TABLES, now naming partitioned tables' changes by the table" in setup.stdout
        pg.psql("parts", "DROP PUBLICATION recap")  # and one setup makes itself
        assert db("setup", url=pg.url).returncode == 0
        r = recap_factory("http://127.0.0.1:9", args=["--database-url", pg.url])
        harness.wait_http(f"{r.control}/readyz", timeout=15)
        pg.psql("parts", "INSERT INTO events (at, kind) VALUES ('2026-05-01', 'a'), ('2027-02-01', 'b')")
        pg.psql("parts", "INSERT INTO logs VALUES ('hello', '2026-03-03'); UPDATE logs SET msg = 'bye'")
        pg.psql("parts", "CREATE TABLE logs_2027 PARTITION OF logs FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')")
        pg.psql("parts", "INSERT INTO logs VALUES ('x', '2027-03-03'); UPDATE logs SET msg = 'y' WHERE msg = 'x'; "
                       "DELETE FROM logs")  # a partition made later: writable too
        pg.psql("parts", "UPDATE events SET at = '2027-06-01' WHERE kind = 'a'")  # moves the row to 2027
        r.barrier()
        status = db("status", url=pg.url).stdout
        r.stop()
        changes = [(c["table"], c["op"]) for t in r.records("orphan") for c in t["changes"]]
        assert changes == [("events", "insert"), ("events", "insert"), ("logs", "insert"), ("logs", "update"),
                           ("logs", "insert"), ("logs", "update"), ("logs", "delete"), ("logs", "delete"),
                           ("events", "delete"), ("events", "insert")], changes
        assert "named by their partitions" not in status and "not watched: 1 tables" in status, status
        assert "public.logs  replica identity full" in status and "public.events  replica identity default" in status
        assert "cdc: publication recap names" not in r.stderr()
        # a partition named on its own is published itself; with its table, through the table
        one = db("setup", "--tables", "events_2026", url=pg.url)
        assert "publication recap: 1 tables (public.events_2026)" in one.stdout, one.stdout + one.stderr
        both = db("setup", "--tables", "logs,logs_2027", url=pg.url)
        assert "publication recap: 1 tables (public.logs)" in both.stdout, both.stdout + both.stderr
    finally:
        pg.stop()


def test_setup_waits_for_a_server_that_is_starting(tmp_path):
    """In compose, setup may start before PostgreSQL accepts connections: it waits (bounded), then says why."""
    port = harness.free_port()
    url = f"postgresql://postgres@127.0.0.1:{port}/app"
    t0 = time.monotonic()
    out = subprocess.run([harness.RECAP, "db", "setup", "--database-url", url, "--wait", "1500ms"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 2 and time.monotonic() - t0 >= 1.4
    assert out.stderr.startswith("recap: db: cannot connect to the database (after waiting for it):")


def test_a_table_owner_without_superuser_sets_up_streams_and_hears_of_new_tables(recap_factory):
    """What works for a role that owns its tables and has REPLICATION but is no superuser: setup publishes
    them (and says tables to come need it run again), the proxy streams their rows, and a table a migration
    adds while recap runs is named by the proxy within seconds and by `db status`."""
    pg = harness.Postgres("plainowner")
    pg.start()
    try:
        pg.psql("postgres", "CREATE ROLE appowner LOGIN REPLICATION")
        pg.psql("postgres", "CREATE DATABASE owned OWNER appowner")
        url = pg.url.replace("postgres@", "appowner@").rsplit("/", 1)[0] + "/owned"
        as_owner = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(pg.port), "-U",
                    "appowner", "-d", "owned", "-c"]
        subprocess.run([*as_owner, "CREATE TABLE items (id serial PRIMARY KEY, name text)"], check=True)
        setup = subprocess.run([harness.RECAP, "db", "setup", "--database-url", url], capture_output=True,
                               text=True)
        assert setup.returncode == 0, setup.stderr
        assert "tables created later: not watched until `recap db setup` runs again" in setup.stdout, setup.stdout
        r = recap_factory("http://127.0.0.1:9", args=["--database-url", url])
        harness.wait_http(f"{r.control}/readyz", timeout=15)
        subprocess.run([*as_owner, "INSERT INTO items (name) VALUES ('a'); CREATE TABLE later (id int)"], check=True)
        for _ in range(100):
            if "cdc: table public.later appeared and is not watched" in r.stderr():
                break
            time.sleep(0.1)
        assert "cdc: table public.later appeared and is not watched" in r.stderr(), r.stderr()
        status = subprocess.run([harness.RECAP, "db", "status", "--database-url", url], capture_output=True,
                                text=True)
        assert "not watched: 1 tables" in status.stdout and "public.later" in status.stdout, status.stdout
        r.barrier()
        r.control_request("POST", "/barrier?sync=1")
        assert [ch["new"]["name"] for o in r.records("orphan") for ch in o["changes"]] == ["a"]
        again = subprocess.run([harness.RECAP, "db", "setup", "--database-url", url], capture_output=True, text=True)
        assert again.returncode == 0, again.stderr  # run again after migrating: now it is published
        status = subprocess.run([harness.RECAP, "db", "status", "--database-url", url], capture_output=True,
                                text=True)
        assert "not watched: 0 tables" in status.stdout, status.stdout
        r.stop()
    finally:
        pg.stop()
