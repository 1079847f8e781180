"""recap db setup | status | teardown against a real PostgreSQL."""
import os
import subprocess

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
    r = db("setup", url=f"postgresql://postgres@127.0.0.1:{harness.free_port()}/app")
    assert r.returncode == 2 and r.stderr.startswith("recap: db: cannot connect to the database:")
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
