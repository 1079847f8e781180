"""bench/cdc.py: end-to-end lag from commit to record, recap beside pg_recvlogical.

A throwaway PostgreSQL 15 runs pgbench's TPC-B-like script at a fixed rate
(4 clients). Two consumers read the same WAL at the same time:
  recap proxy --database-url   (pgoutput; lag = line appears in the capture file,
                                fsync'd, minus the commit time in the line)
  pg_recvlogical -P test_decoding -o include-timestamp=1
                               (lag = COMMIT line read from its stdout minus its commit time)
Both are read by this script as they arrive, so both lags include the same
reading path. Prints p50/p95/p99/max in milliseconds and writes the table to
bench/results/cdc-<date>.txt. Usage: /usr/bin/python3 bench/cdc.py [SECONDS] [TPS]
"""
import datetime
import os
import re
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
import harness  # noqa: E402

PG_BIN = harness.PG_BIN


def pg_time(s):
    """'2026-11-24 12:00:00.123456+00' or RFC 3339 -> epoch seconds."""
    s = s.replace("T", " ").replace("Z", "+00:00")
    if re.search(r"[+-]\d\d$", s):
        s += ":00"
    return datetime.datetime.fromisoformat(s).timestamp()


def tail_capture(path, lags, stop):
    import json
    while not os.path.exists(path):
        time.sleep(0.01)
    with open(path) as f:
        buf = ""
        while not stop.is_set():
            chunk = f.read()
            if not chunk:
                time.sleep(0.0005)
                continue
            now = time.time()
            buf += chunk
            *lines, buf = buf.split("\n")
            for line in lines:
                if line.startswith('{"type":"orphan"'):  # no calls here: every transaction is one
                    lags.append(now - pg_time(json.loads(line)["commit_time"]))


def read_recvlogical(proc, lags, stop):
    pat = re.compile(r"^COMMIT \d+ \(at (.+)\)$")
    for line in proc.stdout:
        now = time.time()
        m = pat.match(line.strip())
        if m:
            lags.append(now - pg_time(m.group(1)))
        if stop.is_set():
            break


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))] * 1000 if xs else float("nan")


def main():
    secs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    tps = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    pg = harness.Postgres("bench").start()
    procs = []
    try:
        subprocess.run([f"{PG_BIN}/pgbench", "-i", "-q", "-s", "2", "-h", "127.0.0.1", "-p", str(pg.port),
                        "-U", "postgres", "bench"], check=True, capture_output=True)
        subprocess.run([harness.RECAP, "db", "setup", "--database-url", pg.url], check=True, capture_output=True)
        run_dir = os.path.join("/tmp", f"recap-cdc-bench-{os.getpid()}")
        os.makedirs(run_dir, exist_ok=True)
        capture = os.path.join(run_dir, "capture.jsonl")
        recap = subprocess.Popen([harness.RECAP, "proxy", "--upstream", f"http://127.0.0.1:{harness.free_port()}",
                                  "--listen", f"127.0.0.1:{harness.free_port()}", "--control-listen",
                                  f"127.0.0.1:{harness.free_port()}", "--capture", capture,
                                  "--database-url", pg.url, "--log-level", "warn"],
                                 stderr=subprocess.DEVNULL)
        procs.append(recap)
        subprocess.run([f"{PG_BIN}/pg_recvlogical", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres",
                        "-d", "bench", "--slot", "bench_td", "--create-slot", "-P", "test_decoding"],
                       check=True, capture_output=True)
        peer = subprocess.Popen([f"{PG_BIN}/pg_recvlogical", "-h", "127.0.0.1", "-p", str(pg.port), "-U",
                                 "postgres", "-d", "bench", "--slot", "bench_td", "--start", "-f", "-",
                                 "-o", "include-timestamp=1"], stdout=subprocess.PIPE, text=True)
        procs.append(peer)
        time.sleep(1.5)  # both streaming
        stop = threading.Event()
        recap_lags, peer_lags = [], []
        threads = [threading.Thread(target=tail_capture, args=(capture, recap_lags, stop), daemon=True),
                   threading.Thread(target=read_recvlogical, args=(peer, peer_lags, stop), daemon=True)]
        for t in threads:
            t.start()
        load = subprocess.run([f"{PG_BIN}/pgbench", "-n", "-c", "4", "-j", "2", "-R", str(tps), "-T", str(secs),
                               "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "bench"],
                              capture_output=True, text=True)
        time.sleep(1.0)
        stop.set()
        done = re.search(r"number of transactions actually processed: (\d+)", load.stdout)
        lines = [f"bench/cdc.py: pgbench TPC-B-like, 4 clients, {tps} tps target, {secs} s, scale 2; "
                 f"{done.group(1) if done else '?'} transactions",
                 f"machine: {os.cpu_count()} cores; {datetime.datetime.utcnow():%Y-%m-%dT%H:%M:%SZ}; "
                 "commit -> record lag in ms, both consumers on the same load at once",
                 f"{'consumer':<34} {'txs':>7} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}"]
        for name, lags in [("recap (pgoutput, fsync'd capture)", recap_lags),
                           ("pg_recvlogical (test_decoding)", peer_lags)]:
            lines.append(f"{name:<34} {len(lags):>7} {pct(lags, .5):>8.2f} {pct(lags, .95):>8.2f} "
                         f"{pct(lags, .99):>8.2f} {pct(lags, 1.0):>8.2f}")
        out = os.path.join(ROOT, "bench", "results", f"cdc-{datetime.datetime.utcnow():%Y%m%d-%H%M%S}.txt")
        decode = subprocess.run([os.path.join(ROOT, "build", "bench_cdc_decode"),
                                 os.path.join(ROOT, "tests", "data", "pgoutput", "frames.txt"), "3"],
                                capture_output=True, text=True).stdout
        text = decode + "\n".join(lines) + "\n"
        print(text, end="")
        with open(out, "w") as f:
            f.write(text)
        print(f"written to {out}")
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        pg.stop()


if __name__ == "__main__":
    main()
