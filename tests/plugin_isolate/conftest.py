"""A suite as teams write them before recap: a session seed written straight to the database, a fixture that
writes a row and never cleans it, and tests that create, update and delete rows the others read. In file
order it passes only when each test starts from the database the one before it found (--recap-isolate); in
reverse order it passes anyway (REVERSE=1): the order dependence test suites hide."""
import os

import httpx
import psycopg2
import pytest

DB = os.environ["DATABASE_URL"]


def sql(query, args=()):
    """One statement in its own transaction, straight to the database (not through the API)."""
    c = psycopg2.connect(DB)
    try:
        with c, c.cursor() as cur:
            cur.execute(query, args)
            return cur.fetchall() if cur.description else None
    finally:
        c.close()


@pytest.fixture(scope="session")
def seeded():
    """The session's seed: two organizations, each with an active campaign (its brief TOASTed)."""
    seed = {}
    for name in ("seeded", "doomed"):
        org = sql("INSERT INTO organizations (name) VALUES (%s) RETURNING id", (name,))[0][0]
        cid = sql("INSERT INTO campaigns (org_id, name, status, budget, settings, brief) VALUES "
                  "(%s, 'launch', 'active', 12.50, '{\"tags\": [\"a\", \"b\"]}', %s) RETURNING id",
                  (org, "brief " * 2000))[0][0]
        seed[name] = {"org": org, "campaign": str(cid)}
    yield seed
    sql("DELETE FROM organizations WHERE name IN ('seeded', 'doomed')")


@pytest.fixture
def scratch():
    """Writes a row and never cleans it up."""
    sql("INSERT INTO event_log (message) VALUES ('scratch')")


@pytest.fixture
def api():
    with httpx.Client(base_url=os.environ["API_BASE_URL"], timeout=30) as c:
        yield c


def pytest_collection_modifyitems(items):
    if os.environ.get("REVERSE") == "1":
        items.reverse()
