"""make demo: a throwaway Postgres, the example API and recap in front of it;
the demo scenario driven through recap; a readable summary of the capture.

Run with Debian's /usr/bin/python3 after `make build`.
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import scenario  # noqa: E402

OUT = os.path.join(harness.ROOT, ".demo")


def main():
    os.makedirs(OUT, exist_ok=True)
    capture = os.path.join(OUT, "capture.jsonl")
    if os.path.exists(capture):
        os.remove(capture)
    pg = app = recap = None
    try:
        print("demo: starting a throwaway PostgreSQL 15 cluster (wal_level=logical)...")
        pg = harness.Postgres().start()
        print(f"demo: starting the example API on 127.0.0.1 ({pg.url})...")
        app = harness.App(pg.url).start()
        print("demo: recap db setup")
        setup = subprocess.run([harness.RECAP, "db", "setup", "--database-url", pg.url], capture_output=True,
                               text=True, check=True)
        print("".join(f"  {line}\n" for line in setup.stdout.splitlines()), end="")
        recap = harness.Recap(app.url, capture=capture,
                              args=["--redact-field", "password", "--database-url", pg.url]).start()
        harness.wait_http(f"{recap.control}/readyz", timeout=15)
        print(f"demo: recap proxy {recap.url} -> {app.url}, control API {recap.control}, "
              "streaming row changes from PostgreSQL\n")

        def label(name):
            recap.control_request("PUT", "/test", (name or "").encode())

        seen = scenario.run(recap.url, label)
        recap.barrier()
        txs = wait_for_changes(recap, pg)
        _, body, _ = recap.control_request("GET", "/metrics")
        records = recap.records()
        summary(records, seen)
        metrics = {l.split()[0]: l.split()[1] for l in body.decode().splitlines() if l and not l.startswith("#")}
        dropped = sum(int(v) for k, v in metrics.items() if k.startswith("recap_records_dropped_total"))
        print(f"\nrecap wrote {metrics['recap_records_written_total']} lines (calls and transactions), "
              f"{metrics['recap_redacted_values_total']} values redacted, {dropped} dropped.")
        print(f"capture file: {capture}  (JSONL, one call per line; docs/capture-format.md)")
        print(f"\n{len(txs)} committed transactions captured from logical replication:")
        for t in txs:
            tables = ", ".join(f"{name} " + "/".join(f"{k[0]}{v}" for k, v in c.items() if v)
                               for name, c in t["tables"].items())
            print(f"  xid {t['xid']:<6} commit {t['commit_lsn']:<11} {tables}")
        print("  (i insert, u update, d delete; the two rolled-back writes are absent)")
        print("putting each transaction on the call that made it is the attribution work (docs/).")
        ok = len(records) == len(seen) and all(
            (r["request"]["method"], r["request"]["path"], r["response"]["status"]) == s
            for r, s in zip(records, seen))
        if not ok:
            print("demo: FAILED: the capture does not match what the client saw", file=sys.stderr)
            return 1
        return 0
    finally:
        for p in (recap, app, pg):
            if p is not None:
                p.stop()


def wait_for_changes(recap, pg):
    """Commits a marker and waits for it: every earlier transaction has been captured then."""
    pg.psql("app", "INSERT INTO event_log (message) VALUES ('demo: end')")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        txs = recap.records("tx")
        if any("public.event_log" in t["tables"] for t in txs):
            return [t for t in txs if "public.event_log" not in t["tables"]]
        time.sleep(0.05)
    raise RuntimeError("the marker transaction never arrived")


def summary(records, seen):
    print(f"{'seq':>3}  {'test':<28} {'method':<6} {'path':<60} {'status':>6} {'ms':>7}  body")
    for r in records:
        req, res = r["request"], r["response"]
        body = res.get("body")
        shown = json.dumps(body)[:48] if body is not None else res.get("body_text", "")[:48].replace("\n", " ")
        print(f"{r['seq']:>3}  {(r['test'] or '-'):<28} {req['method']:<6} {req['path'][:60]:<60} "
              f"{res['status']:>6} {r['duration_us'] / 1000:>7.1f}  {shown}")
    print(f"\n{len(seen)} calls made by the client, {len(records)} recorded, "
          f"{sum(1 for r in records if r['request'].get('body') is not None)} with JSON request bodies.")


if __name__ == "__main__":
    sys.exit(main())
