"""Captures real pgoutput frames from PostgreSQL 15 for the decoder's unit tests.

Starts a throwaway cluster (tests/harness.py), makes tables that exercise every
message type and value kind, streams the changes with psycopg2's logical
replication support (raw payloads, no decoding), and writes frames.txt: one
frame per line, "<label> <hex of the pgoutput message>". The labels say what
the statement did, so the unit test can check each decoded frame.

Run: /usr/bin/python3 tests/data/pgoutput/make_frames.py
"""
import os
import sys

import psycopg2
import psycopg2.extras

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))
import harness  # noqa: E402

SETUP = """
CREATE TABLE t_types (id int PRIMARY KEY, i2 int2, i8 int8, b bool, n numeric, f8 float8, j json, jb jsonb,
                      ts timestamptz, u uuid, t text, arr int[], by bytea);
CREATE TABLE t_toast (id int PRIMARY KEY, note text, big text);
CREATE TABLE t_full (id int PRIMARY KEY, note text, big text);
-- EXTERNAL: stored out of line uncompressed, so updates that leave it alone send 'u'
ALTER TABLE t_toast ALTER COLUMN big SET STORAGE EXTERNAL;
ALTER TABLE t_full ALTER COLUMN big SET STORAGE EXTERNAL;
ALTER TABLE t_full REPLICA IDENTITY FULL;
CREATE TYPE mood AS ENUM ('sad', 'happy');
CREATE TABLE t_custom (id int PRIMARY KEY, m mood);
SELECT pg_replication_origin_create('upstream_a');
CREATE TABLE t_trunc_a (id int PRIMARY KEY);
CREATE TABLE t_trunc_b (id int PRIMARY KEY);
CREATE PUBLICATION recap FOR ALL TABLES;
"""

# (label, SQL): each runs in its own transaction (autocommit), in this order.
STEPS = [
    ("insert_types", """INSERT INTO t_types VALUES (1, -32768, 9223372036854775807, true,
        12345678901234567890.123456789, 1.5e300, '{"a": [1, 2]}', '{"b": {"c": null}}',
        '2026-11-24 12:00:00.123456+00', '8d1e2b4c-7a1f-4f7e-9a53-5c2a4e2d9b10', 'h\u00e9llo "q" \\n',
        '{1,2,3}', '\\x00ff')"""),
    ("insert_nulls", "INSERT INTO t_types (id) VALUES (2)"),
    ("insert_toast", "INSERT INTO t_toast VALUES (1, 'a', repeat('x', 40000) || md5(random()::text))"),
    ("update_toast_default", "UPDATE t_toast SET note = 'b' WHERE id = 1"),
    ("update_key_default", "UPDATE t_toast SET id = 2 WHERE id = 1"),
    ("delete_default", "DELETE FROM t_toast WHERE id = 2"),
    ("insert_full", "INSERT INTO t_full VALUES (1, 'a', repeat('y', 40000) || md5(random()::text))"),
    ("update_full", "UPDATE t_full SET note = 'b' WHERE id = 1"),
    ("delete_full", "DELETE FROM t_full WHERE id = 1"),
    ("truncate", "TRUNCATE t_trunc_a, t_trunc_b RESTART IDENTITY CASCADE"),
    ("message_tx", "SELECT pg_logical_emit_message(true, 'recap.request', 'req-1')"),
    ("message_nontx", "SELECT pg_logical_emit_message(false, 'recap.fence', 'F1'), pg_current_xact_id()"),
    ("custom_type", "INSERT INTO t_custom VALUES (1, 'happy')"),
    # on a connection of its own (see below): the origin must still be set when the transaction commits
    ("origin", "SELECT pg_replication_origin_session_setup('upstream_a'); INSERT INTO t_custom VALUES (2, 'sad')"),
    ("schema_change", "ALTER TABLE t_types ADD COLUMN extra text DEFAULT 'x'; INSERT INTO t_types (id) VALUES (3)"),
    ("done", "SELECT pg_logical_emit_message(false, 'make_frames.done', ''), pg_current_xact_id()"),
]


def main():
    pg = harness.Postgres("frames")
    try:
        pg.start()
        sql = psycopg2.connect(pg.url)
        sql.autocommit = True
        cur = sql.cursor()
        cur.execute(SETUP)
        repl = psycopg2.connect(pg.url, connection_factory=psycopg2.extras.LogicalReplicationConnection)
        rcur = repl.cursor()
        rcur.create_replication_slot("frames", output_plugin="pgoutput")
        for label, stmt in STEPS:
            if label == "origin":
                other = psycopg2.connect(pg.url)
                other.autocommit = True
                other.cursor().execute(stmt)
                other.close()
            else:
                cur.execute(stmt)
        rcur.start_replication(slot_name="frames", decode=False,
                               options={"proto_version": "1", "publication_names": "recap", "messages": "true"})
        frames = []
        step = 0
        while True:
            msg = rcur.read_message()
            if msg is None:
                continue
            p = bytes(msg.payload)
            frames.append(p)
            if p[:1] == b"M" and b"make_frames.done" in p:
                break
        # label frames: each step's frames run up to its C (or its non-transactional M)
        out = []
        step = 0
        for p in frames:
            label = STEPS[min(step, len(STEPS) - 1)][0]
            out.append(f"{label}:{chr(p[0])} {p.hex()}")
            if p[:1] == b"C" or (p[:1] == b"M" and p[1] == 0):
                step += 1
        with open(os.path.join(HERE, "frames.txt"), "w") as f:
            f.write("# pgoutput proto_version 1 frames from PostgreSQL "
                    f"{sql.server_version}, made by make_frames.py\n")
            f.write("\n".join(out) + "\n")
        print(f"{len(out)} frames written")
    finally:
        pg.stop()


if __name__ == "__main__":
    main()
