"""bench/attribution.py: what putting rows on their calls costs.

All on 127.0.0.1, 2 cores shared by everything: a throwaway PostgreSQL 15
(wal_level=logical), a fast stand-in upstream (nginx-light answering a fixed
JSON 200), recap in front of it. A background writer commits ~300 one-row
transactions/s directly (they are orphans), so the WAL and the walsender are
busy as in a real suite.

1. Paced, ~1,000 calls/s: wrk, 10 connections, each waiting 10 ms after a
   response before its next request, for SECONDS. Through recap with
   --database-url, each record says (db.latency_us) how long its window start
   took before forwarding (window_start), how long the end of its response was
   held for the fence (response_held), and response ready -> record complete
   (to_complete: the fence latency). p50/p99/max of each, and wrk's own client
   latency through recap with and without a database.
2. Unpaced: wrk -t1 -c32 for SECONDS through recap with and without a
   database: requests/s and the ratio.

Prints a table and writes it to bench/results/attribution-<date>.txt.
Usage: /usr/bin/python3 bench/attribution.py [SECONDS, default 15]
"""
import datetime
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
import harness  # noqa: E402

import psycopg2  # noqa: E402

LUA_PACED = """
request = function() return wrk.format("GET", "/api/v1/item") end
delay = function() return 10 end
done = function(s, lat, req)
  io.write(string.format("RESULT %d %d %d %d %d\\n", s.requests, s.duration, lat:percentile(50),
                         lat:percentile(99), lat.max))
end
"""
LUA_OPEN = LUA_PACED.replace("delay = function() return 10 end\n", "")


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))] if xs else float("nan")


def wrk(url, lua, seconds, conns):
    out = subprocess.run(["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "-s", lua, url],
                         capture_output=True, text=True, check=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("RESULT"))
    n, dur_us, p50, p99, mx = (int(x) for x in line.split()[1:])
    return {"rps": n / (dur_us / 1e6), "p50_us": p50, "p99_us": p99, "max_us": mx}


def background_writer(url, stop, rate=300):
    conn = psycopg2.connect(url)
    conn.autocommit = True
    cur = conn.cursor()
    i, t = 0, time.monotonic()
    while not stop.is_set():
        cur.execute("INSERT INTO event_log (message) VALUES (%s)", (f"bg-{i}",))
        i += 1
        t += 1 / rate
        d = t - time.monotonic()
        if d > 0:
            time.sleep(d)
    conn.close()


def main():
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    work = tempfile.mkdtemp(prefix="recap-bench-attr-")
    os.chmod(work, 0o755)
    procs, lines = [], []
    pg = harness.Postgres()
    stop = threading.Event()
    try:
        pg.start()
        pg.psql("app", "ALTER TABLE event_log REPLICA IDENTITY FULL; CREATE PUBLICATION recap FOR ALL TABLES;")
        up = harness.free_port()
        with open(f"{work}/up.conf", "w") as f:
            f.write(f"""worker_processes 1; pid {work}/up.pid; error_log {work}/up.err warn;
events {{ worker_connections 4096; }}
http {{ access_log off; server {{ listen 127.0.0.1:{up};
  location / {{ default_type application/json; return 200 '{{"id":1,"name":"bench","status":"ok"}}'; }} }} }}
""")
        procs.append(subprocess.Popen(["nginx", "-c", f"{work}/up.conf", "-p", work, "-g", "daemon off;"]))
        paced, open_ = f"{work}/paced.lua", f"{work}/open.lua"
        open(paced, "w").write(LUA_PACED)
        open(open_, "w").write(LUA_OPEN)
        harness.wait_http(f"http://127.0.0.1:{up}/", timeout=10)
        writer = threading.Thread(target=background_writer, args=(pg.url, stop), daemon=True)
        writer.start()

        results = {}
        for mode in ("db", "plain", "db2", "plain2"):
            args = ["--database-url", pg.url] if mode.startswith("db") else []
            r = harness.Recap(f"http://127.0.0.1:{up}", args=args + ["--log-level", "warn"]).start()
            harness.wait_http(f"{r.control}/readyz", timeout=15)
            if mode in ("db", "plain"):
                res = wrk(r.url + "/api/v1/item", paced, seconds, 10)
                r.barrier()
                res["records"] = r.records()
            else:
                res = wrk(r.url + "/api/v1/item", open_, seconds, 32)
            results[mode] = res
            r.stop()
            r.cleanup()
        stop.set()
        writer.join()

        recs = results["db"]["records"]
        lat = {k: [c["db"]["latency_us"][k] for c in recs if "latency_us" in c["db"]]
               for k in ("window_start", "response_held", "to_complete")}
        statuses = {}
        for c in recs:
            statuses[c["db"]["status"]] = statuses.get(c["db"]["status"], 0) + 1
        d, p = results["db"], results["plain"]
        lines.append(f"bench/attribution.py, {datetime.datetime.now():%Y-%m-%d %H:%M}, {seconds}s per run, "
                     f"2 cores shared by wrk, nginx, PostgreSQL, a 300 tx/s background writer and recap")
        lines.append("")
        lines.append(f"1. paced (10 connections, 10 ms think time): recap with --database-url "
                     f"{d['rps']:.0f} calls/s, {len(recs)} records ({statuses})")
        lines.append(f"   {'per call, µs':<36}{'p50':>8}{'p99':>8}{'max':>8}")
        for k, label in (("window_start", "window start (added before forwarding)"),
                         ("response_held", "response end held for the fence"),
                         ("to_complete", "fence latency: response ready -> record")):
            v = lat[k]
            lines.append(f"   {label:<36}{pct(v, 50):>8}{pct(v, 99):>8}{max(v) if v else 0:>8}")
        lines.append(f"   {'client latency, recap + database':<36}{d['p50_us']:>8}{d['p99_us']:>8}{d['max_us']:>8}")
        lines.append(f"   {'client latency, recap alone':<36}{p['p50_us']:>8}{p['p99_us']:>8}{p['max_us']:>8}"
                     f"   ({p['rps']:.0f} calls/s)")
        d2, p2 = results["db2"], results["plain2"]
        lines.append("")
        lines.append(f"2. unpaced (wrk -t1 -c32): recap + database {d2['rps']:.0f} req/s (p99 {d2['p99_us']} µs), "
                     f"recap alone {p2['rps']:.0f} req/s (p99 {p2['p99_us']} µs): ratio {d2['rps'] / p2['rps']:.3f}")
        text = "\n".join(lines)
        print(text)
        os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
        out = os.path.join(ROOT, "bench", "results", f"attribution-{datetime.datetime.now():%Y%m%d-%H%M%S}.txt")
        with open(out, "w") as f:
            f.write(text + "\n")
        print(f"\nwritten to {os.path.relpath(out, ROOT)}")
    finally:
        stop.set()
        for p in procs:
            p.terminate()
            p.wait()
        pg.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
