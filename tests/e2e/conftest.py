"""Fixtures: one throwaway Postgres and one example API per session, a fresh
recap proxy per test (started with the flags the test asks for)."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import harness  # noqa: E402
import scenario  # noqa: E402


@pytest.fixture(scope="session")
def pg():
    db = harness.Postgres()
    try:
        db.start()
        yield db
    finally:
        db.stop()


@pytest.fixture(scope="session")
def app(pg):
    a = harness.App(pg.url)
    try:
        a.start()
        yield a
    finally:
        a.stop()


@pytest.fixture
def recap_factory():
    started = []

    def make(upstream, **kw):
        r = harness.Recap(upstream, **kw)
        started.append(r)
        return r.start()

    yield make
    for r in started:
        r.cleanup()


@pytest.fixture
def recap(app, recap_factory):
    return recap_factory(app.url)


@pytest.fixture
def db(pg):
    """The session's database, emptied, with a publication of every table (recap db setup would make the
    same); dropped again after the test."""
    pg.psql("app", """
        DROP PUBLICATION IF EXISTS recap;
        TRUNCATE organizations, campaigns, jobs, campaign_audit, event_log RESTART IDENTITY CASCADE;
        """ + harness.RESET_IDENTITY + """
        ALTER TABLE event_log REPLICA IDENTITY FULL;
        CREATE PUBLICATION recap FOR ALL TABLES;""")
    yield pg
    pg.psql("app", "DROP PUBLICATION IF EXISTS recap")


@pytest.fixture
def record_app(db, recap_factory):
    """record_app(drive, bugs=()) -> a capture of drive(recap) through recap, with row changes, against a
    fresh example API (with those RECAP_APP_BUG switches on) and emptied tables."""
    def record(drive, bugs=()):
        db.psql("app", "TRUNCATE organizations, campaigns, jobs, campaign_audit, event_log CASCADE")
        app = harness.App(db.url, env={"RECAP_APP_BUG": ",".join(bugs)})
        app.start()
        try:
            r = recap_factory(app.url, args=["--database-url", db.url])
            harness.wait_http(f"{r.control}/readyz", timeout=15)
            drive(r)
            r.barrier()
            assert r.stop() == 0  # later writes (another recording, a replay) are not this capture's
            return r.capture
        finally:
            app.stop()
    return record


@pytest.fixture
def record_demo(record_app):
    """record_demo(bugs=()) -> a capture of the demo scenario (record_app)."""
    def demo(r):
        scenario.run(r.url, lambda name: r.control_request("PUT", "/test", (name or "").encode()))

    return lambda bugs=(): record_app(demo, bugs)
