"""bench/replay.py: how fast a recorded run is sent again and compared.

A capture of CALLS calls (default 10,000: GETs and POSTs with JSON bodies to
/api/v1/items/{n}) is replayed with `recap replay` against a fixed-response
nginx on 127.0.0.1 (no database: this measures replay itself: reading the
baseline, remapping, libcurl through recap's own proxy, recording), twice;
then `recap diff` compares the two replays. Prints calls/s for each and writes
bench/results/replay-<date>.txt. Usage: /usr/bin/python3 bench/replay.py [CALLS]
"""
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
import harness  # noqa: E402


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    work = tempfile.mkdtemp(prefix="recap-bench-replay-")
    os.chmod(work, 0o755)
    nginx = None
    try:
        up = harness.free_port()
        with open(f"{work}/up.conf", "w") as f:
            f.write(f"""worker_processes 1; pid {work}/up.pid; error_log {work}/up.err warn;
events {{ worker_connections 1024; }}
http {{ access_log off; server {{ listen 127.0.0.1:{up};
  location / {{ default_type application/json; return 200 '{{"id":1,"name":"item","ok":true}}'; }} }} }}
""")
        nginx = subprocess.Popen(["nginx", "-c", f"{work}/up.conf", "-p", work, "-g", "daemon off;"])
        harness.wait_http(f"http://127.0.0.1:{up}/", timeout=10)
        base = f"{work}/base.jsonl"
        with open(base, "w") as f:
            f.write(json.dumps({"type": "header", "recap": 1}) + "\n")
            for seq in range(1, n + 1):
                post = seq % 2 == 0
                req = {"method": "POST" if post else "GET", "path": f"/api/v1/items/{seq % 97}", "query": "",
                       "headers": {"content-type": "application/json", "user-agent": "bench"}}
                if post:
                    req["body"] = {"name": f"item-{seq}", "qty": seq % 5}
                f.write(json.dumps({"type": "call", "seq": seq, "id": f"r{seq}", "test": None, "request": req,
                                    "response": {"status": 200, "body": {"id": 1, "name": "item", "ok": True}},
                                    "db": {"status": "disabled"}}) + "\n")
        figures = []
        for name, src, dst in (("replay 1", base, f"{work}/r1.jsonl"), ("replay 2", base, f"{work}/r2.jsonl")):
            out = subprocess.run([harness.RECAP, "replay", src, "--target", f"http://127.0.0.1:{up}",
                                  "--capture", dst], capture_output=True, text=True, timeout=600)
            assert out.returncode in (0, 1), out.stderr
            m = re.search(r"replayed (\d+) calls in ([\d.]+) s \((\d+) calls/s\)", out.stdout)
            figures.append((name, int(m.group(1)), float(m.group(2)), int(m.group(3))))
        t0 = time.monotonic()
        out = subprocess.run([harness.RECAP, "diff", f"{work}/r1.jsonl", f"{work}/r2.jsonl"], capture_output=True,
                             text=True, timeout=600)
        took = time.monotonic() - t0
        assert out.returncode == 0, out.stdout[-1000:]
        lines = [f"bench/replay.py, {datetime.datetime.now():%Y-%m-%d %H:%M}: a {n}-call capture against a "
                 f"fixed-response nginx, all on 127.0.0.1 (2 cores)"]
        for name, calls, secs, rate in figures:
            lines.append(f"  {name}: {calls} calls in {secs:.2f} s: {rate} calls/s (one at a time, through recap's "
                         "own proxy, recorded)")
        lines.append(f"  diff of the two replays: {n} calls in {took:.2f} s: {n / took:,.0f} calls/s (SAME)")
        text = "\n".join(lines)
        print(text)
        os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
        path = os.path.join(ROOT, "bench", "results", f"replay-{datetime.datetime.now():%Y%m%d-%H%M%S}.txt")
        with open(path, "w") as f:
            f.write(text + "\n")
        print(f"written to {os.path.relpath(path, ROOT)}")
    finally:
        if nginx:
            nginx.terminate()
            nginx.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
