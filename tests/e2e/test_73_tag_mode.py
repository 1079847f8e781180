"""Tag mode beyond FastAPI (docs/attribution.md): a Django app with integrations/django/recap_tag.py, and a
Node app with integrations/node/recap-tag.js (Express with node-postgres by hand, and Sequelize), each under
32 concurrent clients through recap: every row change on the call that made it, 0 wrong, 0 ambiguous, every
call attributed by its tag. Checked against what each app's responses say it wrote, never recap's own view."""
import concurrent.futures
import os
import uuid

import httpx
import pytest

import harness

CLIENTS = 32
PER_CLIENT = 16  # calls per client


@pytest.fixture
def notes_db(db):
    schema = open(os.path.join(harness.ROOT, "tests", "apps", "notes.sql")).read()
    db.psql("app", schema + "TRUNCATE notes, note_events RESTART IDENTITY CASCADE;")
    yield db
    db.psql("app", "DROP TABLE IF EXISTS note_events, notes")


def client_run(base, prefix, k):
    """One client: a note, then events and edits in turn. (request id, {(table, id)} its response says it
    wrote) for each call."""
    out = []
    with httpx.Client(base_url=base, timeout=60) as c:
        def call(method, path, body, wrote):
            rid = f"c{k}-{len(out)}-{uuid.uuid4().hex[:8]}"
            res = c.request(method, prefix + path, json=body, headers={"X-Request-Id": rid})
            assert res.status_code in (200, 201), res.text
            out.append((rid, wrote(res.json())))
            return res.json()

        note = call("POST", "/notes", {"title": f"note {k}"},
                    lambda b: {("notes", b["id"]), ("note_events", b["event"])})
        for i in range(PER_CLIENT - 1):
            if i % 2:
                call("PATCH", f"/notes/{note['id']}", {"title": f"note {k} v{i}"},
                     lambda b: {("notes", b["id"]), ("note_events", b["event"])})
            else:
                call("POST", f"/notes/{note['id']}/events", {"kind": f"k{i}"}, lambda b: {("note_events", b["event"])})
    return out


@pytest.mark.parametrize("kind,prefixes", [("django", [""]), ("node", ["/pg", "/orm"])])
def test_tag_mode_puts_every_change_on_its_call(notes_db, recap_factory, kind, prefixes):
    app = harness.NotesApp(kind, notes_db.url).start()
    try:
        r = recap_factory(app.url, args=["--database-url", notes_db.url])
        harness.wait_http(f"{r.control}/readyz", timeout=15)
        with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
            runs = list(pool.map(lambda k: client_run(r.url, prefixes[k % len(prefixes)], k), range(CLIENTS)))
        made = [x for run in runs for x in run]
        right, wrong, ambiguous, hows = harness.judge_attribution(r, made)
        total = sum(len(w) for _, w in made)
        print(f"{kind}: {len(made)} calls from {CLIENTS} clients, {right}/{total} row changes on the right call, "
              f"{wrong} wrong, {ambiguous} ambiguous; attribution {hows}")
        assert (right, wrong, ambiguous) == (total, 0, 0)
        assert hows == {"tag": len(made)}
        assert not r.records("orphan")  # every write was inside a request: nothing left untagged
    finally:
        app.stop()
