"""make demo: a throwaway Postgres, the example API and recap in front of it;
the demo scenario driven through recap; a readable summary of the capture.

Run with Debian's /usr/bin/python3 after `make build`.
"""
import os
import subprocess
import sys

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
        recap.barrier()  # every call's record is written, with the rows it changed
        _, body, _ = recap.control_request("GET", "/metrics")
        records = recap.records()
        subprocess.run([harness.RECAP, "show", capture], check=True)  # the calls and the rows each changed
        writes = sum(1 for r in records if r["db"].get("transactions"))
        print(f"{len(seen)} calls made by the client, {len(records)} recorded; {writes} of them changed rows "
              f"(shown under each), the others none (the 409 and 422 rolled back).")
        metrics = {l.split()[0]: l.split()[1] for l in body.decode().splitlines() if l and not l.startswith("#")}
        dropped = sum(int(v) for k, v in metrics.items() if k.startswith("recap_records_dropped_total"))
        orphans = recap.records("orphan")
        print(f"\nrecap wrote {metrics['recap_records_written_total']} lines, "
              f"{metrics['recap_redacted_values_total']} values redacted, {dropped} dropped; "
              f"{len(orphans)} transactions in no call's window (orphans).")
        print(f"capture file: {capture}  (JSONL, one call per line; docs/capture-format.md)")
        print("\ndemo: recap verify (specs/ checks status, body and row changes of every call)")
        html = os.path.join(OUT, "report.html")
        verify = subprocess.run([harness.RECAP, "verify", capture, "--specs", os.path.join(harness.ROOT, "specs"),
                                 "--html", html, "--junit", os.path.join(OUT, "junit.xml"), "--require-spec"])
        if verify.returncode != 0:
            print(f"demo: FAILED: recap verify exited {verify.returncode}", file=sys.stderr)
            return 1
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


if __name__ == "__main__":
    sys.exit(main())
