"""Fixtures: one throwaway Postgres and one example API per session, a fresh
recap proxy per test (started with the flags the test asks for)."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import harness  # noqa: E402


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
