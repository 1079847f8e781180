"""Tests that run in parallel (pytest-xdist) and each write rows two ways: a fixture straight to the database
(labelled with recap_pytest.label, unless LABEL=0) and a call to the API (in tag mode). With --recap-isolate
each test's rows are rewound after it, exactly, while other tests run; unlabelled, a fixture's transaction
committed while other tests ran cannot be told whose it is, and its rewind is refused."""
import os
import uuid

import httpx
import psycopg2
import pytest
import recap_pytest


@pytest.fixture
def note():
    text = f"note-{uuid.uuid4().hex[:12]}"
    c = psycopg2.connect(os.environ["DATABASE_URL"])
    try:
        with c, c.cursor() as cur:
            if os.environ.get("LABEL") != "0":
                recap_pytest.label(cur)
            cur.execute("INSERT INTO event_log (message) VALUES (%s)", (text,))
    finally:
        c.close()
    return text


@pytest.mark.parametrize("n", range(16))
def test_writes_its_own_rows(note, n):
    with httpx.Client(base_url=os.environ["API_BASE_URL"], timeout=30) as api:
        made = api.post("/api/v1/organizations", json={"name": f"par-{n}-{uuid.uuid4().hex[:8]}"})
        assert made.status_code == 201
        assert api.get(f"/api/v1/organizations/{made.json()['id']}").status_code == 200
