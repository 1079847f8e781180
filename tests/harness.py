"""Starts the real pieces recap is tested with: a throwaway PostgreSQL 15
cluster, the example API under uvicorn, and the real build/recap binary.

Used by the end-to-end tests (tests/e2e) and by `make demo`. Every process is
bound to 127.0.0.1 on a free port and stopped by stop(), which the callers
run in `finally` blocks or fixture finalizers, so nothing outlives a failure.
Run with Debian's /usr/bin/python3 (fastapi, uvicorn, sqlalchemy, psycopg2).
"""
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECAP = os.environ.get("RECAP_BIN", os.path.join(ROOT, "build", "recap"))
PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")
PYTHON = "/usr/bin/python3"


# Tests that change replica identities put the example schema back with this.
RESET_IDENTITY = ";".join(f"ALTER TABLE {t} REPLICA IDENTITY DEFAULT" for t in
                          ("organizations", "campaigns", "jobs", "campaign_audit", "event_log")) + ";"


_handed_out = set()


def free_port():
    """A port nothing listens on now, and one this process has not handed out before: the kernel
    may offer the same free port twice in a row (two "free" ports for one test could collide)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port


def wait_http(url, timeout=20.0, proc=None, headers=None):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{url}: process exited with {proc.returncode}")
        try:
            req = urllib.request.Request(url, headers=headers or {})
            with urllib.request.urlopen(req, timeout=2) as r:
                return r.status
        except (urllib.error.URLError, ConnectionError, OSError) as e:
            last = e
            time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer in {timeout}s: {last}")


class Postgres:
    """A throwaway cluster: initdb in a temp dir, wal_level=logical, run as
    user postgres when we are root (postgres refuses to run as root)."""

    def __init__(self, dbname="app", wal_level="logical"):
        self.dbname = dbname
        self.wal_level = wal_level
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="recap-pg-")
        self.data = os.path.join(self.dir, "data")
        self.running = False

    def _as_owner(self, argv):
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--"] + argv
        return argv

    def start(self):
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        subprocess.run(self._as_owner([f"{PG_BIN}/initdb", "-D", self.data, "-U", "postgres",
                                       "--auth=trust", "--no-sync", "-E", "UTF8"]),
                       check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write(f"""
port = {self.port}
listen_addresses = '127.0.0.1'
unix_socket_directories = '{self.dir}'
wal_level = {self.wal_level}
max_replication_slots = 20
max_wal_senders = 20
fsync = off
full_page_writes = off
log_min_messages = warning
""")
        subprocess.run(self._as_owner([f"{PG_BIN}/pg_ctl", "-D", self.data, "-l",
                                       os.path.join(self.dir, "log"), "-w", "-t", "60", "start"]),
                       check=True, stdout=subprocess.DEVNULL)
        self.running = True
        self.psql("postgres", f"CREATE DATABASE {self.dbname}")
        self.psql_file(os.path.join(ROOT, "tests", "app", "schema.sql"))
        return self

    def psql(self, db, sql):
        return subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                               "-p", str(self.port), "-U", "postgres", "-d", db, "-At", "-c", sql],
                              check=True, capture_output=True, text=True).stdout

    def psql_file(self, path):
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(self.port),
                        "-U", "postgres", "-d", self.dbname, "-f", path],
                       check=True, capture_output=True, text=True)

    def restart(self, mode="immediate"):
        """Restarts the server; "immediate" is a crash as far as the WAL is concerned."""
        subprocess.run(self._as_owner([f"{PG_BIN}/pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "60",
                                       "-l", os.path.join(self.dir, "log"), "restart"]),
                       check=True, stdout=subprocess.DEVNULL)

    @property
    def url(self):
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.dbname}"

    def stop(self):
        if self.running:
            subprocess.run(self._as_owner([f"{PG_BIN}/pg_ctl", "-D", self.data, "-m", "immediate", "-w",
                                           "stop"]), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.running = False
        shutil.rmtree(self.dir, ignore_errors=True)


class App:
    """The example FastAPI app (tests/app) under uvicorn."""

    def __init__(self, database_url, env=None):
        self.port = free_port()
        self.database_url = database_url
        self.env = env or {}
        self.proc = None

    def start(self):
        env = dict(os.environ, DATABASE_URL=self.database_url, **self.env)
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([PYTHON, "-m", "uvicorn", "main:app", "--app-dir",
                                      os.path.join(ROOT, "tests", "app"), "--host", "127.0.0.1",
                                      "--port", str(self.port), "--log-level", "warning"],
                                     env=env, stdout=self.log, stderr=subprocess.STDOUT)
        wait_http(f"{self.url}/api/v1/health", proc=self.proc)
        return self

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Blog(App):
    """The second example API (tests/apps/blog: Node, Express, node-postgres), with its packages from
    `make deps` (npm ci into tests/apps/blog/node_modules). It migrates its schema as it starts."""

    DIR = os.path.join(ROOT, "tests", "apps", "blog")

    def start(self):
        env = dict(os.environ, DATABASE_URL=self.database_url, PORT=str(self.port), **self.env)
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(["node", os.path.join(self.DIR, "server.js")], cwd=self.DIR, env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        wait_http(f"{self.url}/api/health", proc=self.proc)
        return self

    def output(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    @staticmethod
    def run_suite(base_url, *args, secrets_out=None):
        """The blog's own pytest suite against base_url; its CompletedProcess. With secrets_out, the suite
        appends the tokens, session cookies and passwords it used to that file, one per line."""
        env = dict(os.environ, BLOG_URL=base_url)
        if secrets_out:
            env["BLOG_SECRETS_OUT"] = str(secrets_out)
        return subprocess.run([PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args,
                               os.path.join(Blog.DIR, "suite")], env=env, capture_output=True, text=True,
                              timeout=120)


class NotesApp(App):
    """A tag-mode example app (tests/apps/notes_django or notes_node: the notes API over tests/apps/notes.sql),
    `kind` "django" or "node"."""

    def __init__(self, kind, database_url, env=None):
        super().__init__(database_url, env)
        self.kind = kind

    def start(self):
        env = dict(os.environ, DATABASE_URL=self.database_url, PORT=str(self.port), **self.env)
        self.log = tempfile.TemporaryFile()
        apps = os.path.join(ROOT, "tests", "apps")
        argv = ([PYTHON, os.path.join(apps, "notes_django", "app.py"), str(self.port)] if self.kind == "django"
                else ["node", os.path.join(apps, "notes_node", "server.js")])
        self.proc = subprocess.Popen(argv, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        wait_http(f"{self.url}/health", proc=self.proc)
        return self


class Recap:
    """The real recap binary: `recap proxy` with the given flags."""

    def __init__(self, upstream, capture=None, args=(), env=None, token=None):
        self.port = free_port()
        self.control_port = free_port()
        self.dir = tempfile.mkdtemp(prefix="recap-run-")
        self.capture = capture or os.path.join(self.dir, "capture.jsonl")
        self.upstream = upstream
        self.args = list(args)
        self.env = env or {}
        self.token = token
        self.proc = None
        self.stderr_path = os.path.join(self.dir, "stderr.log")

    def start(self, wait=True):
        env = dict(os.environ, **self.env)
        if self.token:
            env["RECAP_CONTROL_TOKEN"] = self.token
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen([RECAP, "proxy", "--upstream", self.upstream,
                                      "--listen", f"127.0.0.1:{self.port}",
                                      "--control-listen", f"127.0.0.1:{self.control_port}",
                                      "--capture", self.capture] + self.args,
                                     env=env, stdout=subprocess.DEVNULL, stderr=self._stderr)
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else None
        if wait:
            wait_http(f"{self.control}/healthz", proc=self.proc, headers=headers)
        return self

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def control(self):
        return f"http://127.0.0.1:{self.control_port}"

    def control_request(self, method, path, body=None, token=None):
        headers = {}
        tok = token if token is not None else self.token
        if tok:
            headers["Authorization"] = f"Bearer {tok}"
        req = urllib.request.Request(self.control + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, r.read(), {k.lower(): v for k, v in r.headers.items()}
        except urllib.error.HTTPError as e:
            return e.code, e.read(), {k.lower(): v for k, v in e.headers.items()}

    def barrier(self):
        status, body, _ = self.control_request("POST", "/barrier")
        assert status == 200, (status, body)
        return json.loads(body)

    def records(self, kind="call"):
        return [r for r in read_capture(self.capture)[1] if kind is None or r["type"] == kind]

    def transactions(self):
        """Every transaction in the capture once, in commit order: orphans and those on calls
        (an ambiguous one is listed on each of its calls)."""
        return capture_transactions(read_capture(self.capture)[1])

    def stderr(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self, timeout=20):
        """SIGTERM and wait; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._stderr.close()
        if self.proc.returncode != 0:  # a sanitizer's report, or why it stopped: shown with the failing test
            print(f"recap exited {self.proc.returncode}; its stderr ends:\n{self.stderr()[-4000:]}")
        return self.proc.returncode

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def judge_attribution(r, made):
    """made: (request id, {(table, id)} the call's response says it wrote) per call. Counts the row changes
    on the right call, on a wrong call (owned by window or tag) and listed as ambiguous on a call that did not
    make them; asserts every call is complete and every row it wrote is on it. Returns (right, wrong,
    ambiguous elsewhere, {call attribution: count})."""
    r.barrier()
    calls = {c["id"]: c for c in r.records()}
    right = wrong = ambiguous_elsewhere = 0
    hows = {}
    for rid, wrote in made:
        rec = calls[rid]
        assert rec["db"]["status"] == "complete", rec["db"]
        hows[rec["db"]["attribution"]] = hows.get(rec["db"]["attribution"], 0) + 1
        mine = set()
        for tx in rec["db"]["transactions"]:
            for ch in tx["changes"]:
                key = (ch["table"], ch["new"]["id"])
                mine.add(key)
                if key in wrote:
                    right += 1
                elif tx["attribution"] == "ambiguous":
                    ambiguous_elsewhere += 1
                else:
                    wrong += 1
        assert wrote <= mine, (rid, wrote, mine)  # nothing the call wrote is missing
    return right, wrong, ambiguous_elsewhere, hows


def read_capture(path):
    """(header, records) of a capture file; raises on any malformed line."""
    header, records = None, []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            assert line.endswith("\n"), f"{path}:{n}: line without newline"
            obj = json.loads(line)
            if obj["type"] == "header":
                header = header or obj
            else:
                records.append(obj)
    return header, records


def lsn_value(lsn):
    hi, lo = lsn.split("/")
    return (int(hi, 16) << 32) | int(lo, 16)


def capture_transactions(records):
    """Transactions of a capture's records once each, in commit order."""
    seen = {}
    for r in records:
        if r["type"] == "orphan":
            seen.setdefault(r["commit_lsn"], r)
        elif r["type"] == "call":
            for t in r["db"].get("transactions", []):
                seen.setdefault(t["commit_lsn"], t)
    return sorted(seen.values(), key=lambda t: lsn_value(t["commit_lsn"]))
