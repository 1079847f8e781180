"""A suite that trusts recap with what its own fixtures used to check: a value one test's call saves is used by
another test (in another process under pytest-xdist), and a fixture that writes straight to the database is
caught by `orphans: forbid` on the test it ran for (and, with --recap-leaks, the row it left is named)."""
import os
import time
import uuid

import httpx
import psycopg2
import pytest


def sql(query, args=()):
    c = psycopg2.connect(os.environ["DATABASE_URL"])
    try:
        with c, c.cursor() as cur:
            cur.execute(query, args)
            return cur.fetchall() if cur.description else None
    finally:
        c.close()


@pytest.fixture
def api():
    with httpx.Client(base_url=os.environ["API_BASE_URL"], timeout=30) as c:
        yield c


@pytest.fixture
def marker():
    """A file the saving test touches once its call is checked (its call phase is over): the other test waits
    for it, wherever it runs."""
    path = os.path.join(os.environ["MARKER_DIR"], "saved")
    yield path
    with open(path, "w") as f:
        f.write("done")


def wait_for(path, timeout=20):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            pytest.fail(f"{path} never appeared: the saving test did not run first")
        time.sleep(0.05)


@pytest.fixture
def scratch():
    """Writes a row straight to the database and never cleans it up."""
    sql("INSERT INTO organizations (name) VALUES (%s)", (f"scratch-{uuid.uuid4().hex[:8]}",))
