"""pytest plugin for recap: label every call with the test (and the phase) that made it, and fail a test
with what `recap verify` finds in its calls.

One module, standard library only: copy it next to your conftest.py (or put integrations/pytest on
PYTHONPATH) and enable it:

    pytest -p recap_pytest --recap-control http://127.0.0.1:9090 --recap-url http://127.0.0.1:8080 \\
        [--recap-specs specs/] [-n 4]

Your tests keep talking to the API through recap (their base URL is recap's listener); nothing in them
changes. The full story: docs/pytest.md.

- Labels per request (--recap-url): every request this process sends to recap's listener with httpx
  (sync and async), requests or urllib3 carries `X-Recap-Test: <node id>` and `X-Recap-Phase: setup |
  call | teardown`; requests to other hosts are left alone. Labels stay right under pytest-xdist (each
  worker labels its own requests). Without --recap-url: `PUT /test` before each test (one label for the
  whole proxy: right only when tests run one at a time).
- After each test (--recap-specs, or --recap-barrier): POST /barrier, which returns once every call the
  test made is in the capture with its row changes; with --recap-specs the test's calls (GET /calls?test=)
  go to one `recap verify --serve` kept up for the process (specs loaded once; values saved by one test's
  calls there for every later test, in every xdist worker), and every finding fails the test (setup and
  call) or its teardown.
- Following each test (with --recap-leaks, --recap-isolate, or specs that say `orphans: forbid`): POST
  /tests/begin before its setup and /tests/end after its teardown, so a transaction no call made (a
  fixture writing straight to the database) is reported on the test that ran when it committed; fixtures
  wider than a test write under a label of their own. --recap-isolate: after each test, recap undoes every
  row change the test made (POST /rewind), or its teardown fails saying why it could not.
- Trust: a control API that cannot be reached, or a recap binary that is missing, is a usage error before
  any test runs; when tests ran and recap recorded none of their calls, the session says so (and fails
  with --recap-require-calls); --recap-require-spec fails calls no spec matches.

Options (or environment): --recap-control URL (RECAP_CONTROL_URL), --recap-url URL (RECAP_URL),
--recap-token TOKEN (RECAP_CONTROL_TOKEN), --recap-specs DIR (RECAP_SPECS), --recap-bin PATH (RECAP_BIN,
default `recap` on PATH), --recap-barrier, --recap-require-spec, --recap-require-calls, --recap-leaks
report|fail (rows a test left behind, rows of earlier tests it changed), --recap-isolate.
"""
import fcntl
import json
import os
import inspect
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request

import pytest

# what this process is running now: every labelled request reads it
_now = {"test": None, "phase": None}
_sent = {}  # phase -> requests labelled in it, for the test now running
_targets = set()  # ("host", port) of recap's listener


def pytest_addoption(parser):
    g = parser.getgroup("recap")
    g.addoption("--recap-control", default=os.environ.get("RECAP_CONTROL_URL"),
                help="recap's control API, e.g. http://127.0.0.1:9090 (env RECAP_CONTROL_URL)")
    g.addoption("--recap-url", default=os.environ.get("RECAP_URL"),
                help="recap's listener, e.g. http://127.0.0.1:8080 (env RECAP_URL): label each request sent "
                     "there with its test and phase")
    g.addoption("--recap-token", default=os.environ.get("RECAP_CONTROL_TOKEN"),
                help="bearer token of the control API (env RECAP_CONTROL_TOKEN)")
    g.addoption("--recap-specs", default=os.environ.get("RECAP_SPECS"),
                help="verify each test's calls against these specs and fail the test on findings")
    g.addoption("--recap-bin", default=os.environ.get("RECAP_BIN", "recap"), help="the recap binary")
    g.addoption("--recap-barrier", action="store_true",
                help="after each test, wait until its calls are recorded (implied by --recap-specs)")
    g.addoption("--recap-require-spec", action="store_true", help="a call no spec matches fails its test")
    g.addoption("--recap-require-calls", action="store_true",
                help="fail the session when tests ran and recap recorded none of their calls")
    g.addoption("--recap-leaks", choices=("report", "fail"), default=None,
                help="after each test, the rows its calls inserted that it did not delete, and the rows of earlier "
                     "tests it updated or deleted: report them, or fail the test's teardown")
    g.addoption("--recap-isolate", action="store_true",
                help="after each test, undo every row change its calls and the transactions committed while it ran "
                     "made (POST /rewind): each test starts from the database the one before it found")


# ---- labels per request ----

def _port(scheme, port):
    return port or (443 if scheme == "https" else 80)


def _labels(host, port):
    if _now["test"] is None or (host, port) not in _targets:
        return {}
    _sent[_now["phase"]] = _sent.get(_now["phase"], 0) + 1
    return {"X-Recap-Test": _now["test"], "X-Recap-Phase": _now["phase"]}


def _patch_httpx(httpx):
    if getattr(httpx.HTTPTransport, "_recap", False):
        return
    sync, async_ = httpx.HTTPTransport.handle_request, httpx.AsyncHTTPTransport.handle_async_request

    def handle_request(self, request):
        request.headers.update(_labels(request.url.host, _port(request.url.scheme, request.url.port)))
        return sync(self, request)

    async def handle_async_request(self, request):
        request.headers.update(_labels(request.url.host, _port(request.url.scheme, request.url.port)))
        return await async_(self, request)

    httpx.HTTPTransport.handle_request = handle_request
    httpx.AsyncHTTPTransport.handle_async_request = handle_async_request
    httpx.HTTPTransport._recap = True


def _patch_urllib3(connectionpool):
    if getattr(connectionpool.HTTPConnectionPool, "_recap", False):
        return
    urlopen = connectionpool.HTTPConnectionPool.urlopen

    def labelled_urlopen(self, method, url, body=None, headers=None, *args, **kw):
        extra = _labels(self.host, _port(self.scheme, self.port))
        if extra:
            headers = dict(headers or {}, **extra)
        return urlopen(self, method, url, body, headers, *args, **kw)

    connectionpool.HTTPConnectionPool.urlopen = labelled_urlopen
    connectionpool.HTTPConnectionPool._recap = True


# httpx (sync and async transports) and urllib3 (what requests sends through), patched as they are imported:
# a process that never imports one (xdist's controller, a suite on requests alone) never pays for its import
_PATCHES = {"httpx": _patch_httpx, "urllib3.connectionpool": _patch_urllib3}


class _PatchOnImport:
    """A finder that lets the others find the module, and patches it once it has run."""

    def find_spec(self, name, path, target=None):
        patch = _PATCHES.get(name)
        if patch is None:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
                run = spec.loader.exec_module

                def exec_module(module, run=run, patch=patch):
                    run(module)
                    patch(module)
                spec.loader.exec_module = exec_module
                return spec
        return None


def _patch_clients():
    """Adds the labels to requests for recap's listener: clients already imported now, the others when the
    suite imports them."""
    for name, patch in _PATCHES.items():
        if name in sys.modules:
            patch(sys.modules[name])
    if not any(isinstance(f, _PatchOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _PatchOnImport())


def _set_phase(item, phase):
    if phase == "setup":
        _sent.clear()
    _now["test"], _now["phase"] = item.nodeid, phase


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    _set_phase(item, "setup")
    r = getattr(item.config, "_recap", None)
    if r is not None and not r.targets:
        r.set_test(item.nodeid)
    if r is not None and r.tracks:
        r.seen = set()
        r.begun.pop(item.nodeid, None)  # a test run again (a rerun plugin) starts afresh
        r.begin(item.nodeid)
    yield


def label(cursor):
    """Marks the transaction `cursor` is in as the running test's own direct write (a fixture seeding rows
    straight into the database): recap puts it on that test exactly, even while other tests run (xdist), never
    on a call, and --recap-isolate rewinds it with the test. Call it inside the transaction, before it commits;
    a DB-API cursor with the %s paramstyle (psycopg2). Outside a test it does nothing."""
    if _now["test"]:
        cursor.execute("SELECT pg_logical_emit_message(true, 'recap.test', %s)", (_now["test"],))


# Fixtures wider than a test (session, package, module, class) are set up inside the first test that needs
# them and torn down inside the last: what they write is theirs, not that test's (not reported on it, never
# rewound with it). Their calls and transactions run under a label of their own.
_wide = {}  # id(fixturedef) -> its label


def _switch(r, old, new):
    if old:
        r.end(old)
    if new:
        r.begin(new)


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef, request):
    r = getattr(request.config, "_recap", None)
    test = _now["test"]
    if r is None or not r.tracks or fixturedef.scope == "function" or not test:
        yield
        return
    label = f"{fixturedef.scope} fixture {fixturedef.argname}"
    _wide[id(fixturedef)] = label
    _switch(r, test, label)
    _now["test"] = label
    try:
        yield
    finally:
        _now["test"] = test
        _switch(r, label, test)

    def teardown_begins():  # runs before the fixture's own teardown (finalizers run last in, first out)
        _wide[id(fixturedef)] = (label, _now["test"])
        _switch(r, _now["test"], label)
        _now["test"] = label
    fixturedef.addfinalizer(teardown_begins)


def pytest_fixture_post_finalizer(fixturedef, request):
    state = _wide.pop(id(fixturedef), None)
    r = getattr(request.config, "_recap", None)
    if r is not None and isinstance(state, tuple):
        label, test = state
        _now["test"] = test
        _switch(r, label, test)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    _set_phase(item, "call")
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item):
    _set_phase(item, "teardown")
    yield


# ---- the control API and the verifier ----

class _Recap:
    def __init__(self, config):
        self.control = config.getoption("recap_control").rstrip("/")
        self.token = config.getoption("recap_token")
        self.specs = config.getoption("recap_specs")
        self.bin = config.getoption("recap_bin")
        self.barrier = config.getoption("recap_barrier") or bool(self.specs)
        self.require_spec = config.getoption("recap_require_spec")
        self.leaks = config.getoption("recap_leaks")
        self.isolate = config.getoption("recap_isolate")
        # follow each test from its start (POST /tests/begin): its orphans are its own, and can be rewound;
        # with specs, when they forbid orphans (asked once the verifier is up: configure)
        self.tracks = bool(self.leaks or self.isolate)
        self.begun = {}  # test -> where recap's ring of records stood when it began ("since")
        self.seen = set()  # orphans (commit LSNs) of the running test already checked
        self.saved_file = os.environ.get("RECAP_PYTEST_SAVED") if hasattr(config, "workerinput") else None
        self.leak_book = _Leaks()
        self.targets = set()
        url = config.getoption("recap_url")
        if url:
            u = urllib.parse.urlsplit(url)
            if u.scheme not in ("http", "https") or not u.hostname:
                raise pytest.UsageError(f"--recap-url {url}: not an http:// URL of recap's listener")
            port = _port(u.scheme, u.port)
            self.targets = {(u.hostname, port)}
            if u.hostname in ("127.0.0.1", "localhost"):
                self.targets |= {("127.0.0.1", port), ("localhost", port)}

    def request(self, method, path, body=None, timeout=60):
        req = urllib.request.Request(self.control + path, data=body, method=method)
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as res:
                return res.status, res.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()
        except OSError as e:  # recap is not there: say so once, in the test's report
            raise RuntimeError(f"recap control API {self.control}: {e}") from None

    def check(self):
        """A usage error now rather than a failure in every test."""
        if self.specs and shutil.which(self.bin) is None:
            raise pytest.UsageError(f"recap: the recap binary '{self.bin}' is not found (put it on PATH, or give "
                                    "--recap-bin or RECAP_BIN)")
        try:
            status, body = self.request("GET", "/healthz", timeout=10)
        except RuntimeError as e:
            raise pytest.UsageError(f"recap: {e} (is recap running? --recap-control / RECAP_CONTROL_URL)")
        if status != 200:
            raise pytest.UsageError(f"recap: {self.control}/healthz answered {status}: not recap's control API?")

    def set_test(self, name):
        status, body = self.request("PUT", "/test", (name or "").encode())
        if status != 200:
            raise RuntimeError(f"recap PUT /test answered {status}: {body.decode(errors='replace').strip()}")

    def wait_recorded(self, sync=False):
        """Every call so far is recorded; with sync, every transaction committed so far is decided too."""
        status, body = self.request("POST", "/barrier?timeout_ms=30000" + ("&sync=1" if sync else ""))
        if status != 200:
            raise RuntimeError(f"recap POST /barrier answered {status}: {body.decode(errors='replace').strip()}")
        return json.loads(body or b"{}").get("last_seq", 0)

    def _test_request(self, route, test, since=None):
        q = f"{route}?test={urllib.parse.quote(test, safe='')}" + (f"&since={since}" if since is not None else "")
        status, body = self.request("POST", q)
        try:
            answer = json.loads(body or b"{}")
        except ValueError:
            answer = {"error": body.decode(errors="replace").strip()}
        return status, answer

    def begin(self, test):
        """The test runs from now: transactions no call made are stamped with it."""
        status, answer = self._test_request("/tests/begin", test)
        if status != 200:
            raise RuntimeError(f"recap POST /tests/begin answered {status}: {answer.get('error')}")
        self.begun.setdefault(test, answer.get("since", 0))

    def end(self, test):
        """Every call and transaction of the test so far is recorded; it no longer runs."""
        status, answer = self._test_request("/tests/end", test)
        if status != 200:
            raise RuntimeError(f"recap POST /tests/end answered {status}: {answer.get('error')}")

    def rewind(self, test):
        """Undoes the test's row changes; None, or why it could not."""
        status, answer = self._test_request("/rewind", test, self.begun.get(test, 0))
        return None if status == 200 else answer.get("error") or f"POST /rewind answered {status}"

    def calls(self, after=None, test=None, orphans=False):
        """This session's calls (after its start, or after `after`), of one test if given; with orphans, the
        transactions committed while it ran that no call made too."""
        after = getattr(self, "start_seq", 0) if after is None else after
        since = self.begun.get(test) if test else None
        q = f"/calls?after={after}" + ("&test=" + urllib.parse.quote(test, safe="") if test else "") + (
            f"&since={since}" if since else "") + ("&orphans=1" if orphans else "")
        status, body = self.request("GET", q)
        if status != 200:
            raise RuntimeError(f"recap GET /calls answered {status}")
        return [line for line in body.splitlines() if line.strip()]

    def verifier(self):
        """One `recap verify --serve` for this process: specs loaded once, values saved by one test's calls
        there for the next's (verifier/serve.h)."""
        if getattr(self, "served", None) is None or self.served.poll() is not None:
            specs = self.specs
            if specs is None:  # only recap.expect's inline specs
                fd, specs = tempfile.mkstemp(prefix="recap-pytest-", suffix=".yaml")
                os.write(fd, b"specs: []\n")
                os.close(fd)
            argv = [self.bin, "verify", "--serve", "--specs", specs] + (
                ["--require-spec"] if self.require_spec else [])
            self.served = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                           stderr=subprocess.PIPE)
        return self.served

    def close(self):
        served = getattr(self, "served", None)
        if served is not None and served.poll() is None:
            served.stdin.close()
            served.wait(10)

    def served_check(self, lines, spec=None):
        """The served verifier's answer for these records (against spec, {"file", "text"}, alone if given)."""
        v = self.verifier()
        head = b"#spec " + json.dumps(spec).encode() + b"\n" if spec else b""
        known = self._shared_saved()
        if known:
            head = b"#saved " + json.dumps(known).encode() + b"\n" + head
        try:
            v.stdin.write(head + b"".join(line + b"\n" for line in lines) + b"\n")
            v.stdin.flush()
            answer = v.stdout.readline()
        except OSError:
            answer = b""
        if not answer:
            raise RuntimeError(f"recap verify --serve stopped: {v.stderr.read().decode(errors='replace').strip()}")
        a = json.loads(answer)
        if a.get("saved") and a["saved"] != known:
            self._shared_saved(a["saved"])
        return a

    def _shared_saved(self, update=None):
        """Under pytest-xdist: the values specs saved, shared by every worker through one file (locked)."""
        if not self.saved_file:
            return None
        with open(self.saved_file, "a+") as f:
            fcntl.flock(f, fcntl.LOCK_EX if update else fcntl.LOCK_SH)
            f.seek(0)
            text = f.read()
            values = json.loads(text) if text.strip() else {}
            if update:
                values.update(update)
                f.seek(0)
                f.truncate()
                f.write(json.dumps(values))
            return values

    def findings(self, records, phases):
        """The verifier's findings for those of a test's records ((line, parsed) pairs) made in these phases,
        and its orphans not checked yet (empty: all passed)."""
        lines = [line for line, rec in records if rec.get("type") != "orphan" and rec.get("phase", "call") in phases]
        for line, rec in records:
            if rec.get("type") == "orphan" and rec.get("commit_lsn") not in self.seen:
                self.seen.add(rec.get("commit_lsn"))
                lines.append(line)
        if not lines:
            return []
        try:
            a = self.served_check(lines)
        except RuntimeError as e:
            return [str(e)]
        return a["findings"] + a.get("orphans", []) + [
            f"no spec matches call {c}" for c in a["no_spec"] if self.require_spec] + [
            f"recap verify: {e}" for e in a["errors"]]


# ---- leaks: rows a test leaves behind, rows of earlier tests it changes ----

def _row_key(table, identity, row):
    if not identity or not isinstance(row, dict) or any(c not in row for c in identity):
        return None
    return table + " " + ",".join(f"{c}={json.dumps(row[c])}" for c in identity)


class _Leaks:
    """Rows by table and replica identity, with the test whose call inserted them (this process's tests)."""

    def __init__(self):
        self.identity, self.owner = {}, {}

    def test_done(self, nodeid, records):
        """What this test left and changed: a list of lines (empty: clean)."""
        mine, changed = [], []
        for rec in sorted(records, key=lambda c: c.get("arrival", 0)):
            txs = [rec] if rec.get("type") == "orphan" else (rec.get("db") or {}).get("transactions", [])
            for tx in txs:
                for ch in tx.get("changes", []):
                    table = f"{ch['schema']}.{ch['table']}"
                    if ch.get("identity"):
                        self.identity[table] = ch["identity"]
                    row = ch.get("new") if ch["op"] == "insert" else ch.get("old", ch.get("key"))
                    key = _row_key(table, self.identity.get(table), row)
                    if key is None:
                        continue
                    if ch["op"] == "insert":
                        self.owner[key] = nodeid
                        mine.append(key)
                    elif ch["op"] in ("update", "delete"):
                        owner = self.owner.get(key)
                        by = f"call #{rec.get('seq')}" if rec.get("type") != "orphan" else f"transaction {rec.get('xid')}"
                        if owner and owner != nodeid:
                            changed.append(f"{ch['op']}d {key}, a row {owner} made ({by})")
                        if ch["op"] == "delete":
                            self.owner.pop(key, None)
                            if key in mine:
                                mine.remove(key)
        left = [f"left {len(mine)} row{'s' if len(mine) != 1 else ''}: " + "; ".join(mine)] if mine else []
        return left + changed


# ---- the `recap` fixture: the test's calls, and expectations beside them ----

class Call:
    """One recorded call: method, path, query, status, body (the response's), request_body, and rows:
    {"public.organizations": {"inserted": [row], "updated": [{"old": row, "new": row}], "deleted": [row]}}."""

    def __init__(self, rec):
        req, res = rec.get("request", {}), rec.get("response", {})
        self.record, self.seq, self.phase = rec, rec.get("seq"), rec.get("phase")
        self.method, self.path, self.query = req.get("method"), req.get("path"), req.get("query", "")
        self.request_body = req.get("body", req.get("body_text"))
        self.status, self.body = res.get("status"), res.get("body", res.get("body_text"))
        self.rows = {}
        for tx in (rec.get("db") or {}).get("transactions", []):
            for ch in tx.get("changes", []):
                t = self.rows.setdefault(f"{ch['schema']}.{ch['table']}", {"inserted": [], "updated": [], "deleted": []})
                old = ch.get("old", ch.get("key"))
                if ch["op"] == "insert":
                    t["inserted"].append(ch.get("new"))
                elif ch["op"] == "update":
                    t["updated"].append({"old": old, "new": ch.get("new")})
                elif ch["op"] == "delete":
                    t["deleted"].append(old)

    def table(self, name):
        """The row changes of a table ("organizations" or "public.organizations"); empty lists if none."""
        key = name if "." in name else f"public.{name}"
        return self.rows.get(key, {"inserted": [], "updated": [], "deleted": []})

    def __repr__(self):
        return f"<call #{self.seq} {self.method} {self.path} -> {self.status}>"


class RecapFixture:
    def __init__(self, r, nodeid):
        self._r, self._nodeid = r, nodeid

    def _lines(self):
        self._r.wait_recorded()
        return self._r.calls(test=self._nodeid)  # after the test began (recap.begun), when followed

    def calls(self):
        """This test's calls so far, recorded with their row changes, in the order they arrived."""
        return sorted((Call(json.loads(line)) for line in self._lines()), key=lambda c: c.record.get("arrival", 0))

    def expect(self, path, method=None, status=None, headers=None, body=None, db=None, name=None):
        """Checks this test's calls that match method and path against an expectation in the spec language
        (docs/spec-format.md: the same matchers and messages as YAML specs); AssertionError with the findings.
        At least one call must match."""
        frame = inspect.stack()[1]
        where = f"{os.path.relpath(frame.filename)}:{frame.lineno}"
        match = {"path": path, **({"method": method} if method else {})}
        expect = {k: v for k, v in (("status", status), ("headers", headers), ("body", body), ("db", db))
                  if v is not None}
        spec = {"specs": [{"name": name or f"recap.expect at {where}", "match": match, "expect": expect}]}
        a = self._r.served_check(self._lines(), {"file": f"{where} (recap.expect)", "text": json.dumps(spec)})
        if a["errors"]:
            raise AssertionError("recap.expect: " + "\n".join(a["errors"]))
        if a["matched"] == 0:
            raise AssertionError(f"recap.expect at {where}: no call of this test matches {method or 'any'} {path}")
        if a["findings"]:
            raise AssertionError("recap.expect found:\n" + "\n".join(a["findings"]))


@pytest.fixture
def recap(request):
    """This test's calls with their row changes (recap.calls()), and recap.expect(...) beside them."""
    r = getattr(request.config, "_recap", None)
    if r is None:
        pytest.fail("the recap fixture needs the plugin on: --recap-control URL (or RECAP_CONTROL_URL)")
    return RecapFixture(r, request.node.nodeid)


def pytest_configure(config):
    if not config.getoption("recap_control"):
        return
    r = config._recap = _Recap(config)
    r.check()
    _targets.update(r.targets)
    if r.targets:
        _patch_clients()
    r.start_seq = r.wait_recorded()  # where this session's calls start: a proxy outlives pytest sessions
    if r.specs and not r.tracks:  # an empty batch: do the specs forbid orphans (then each test's count)?
        try:
            r.tracks = bool(r.served_check([]).get("orphans_forbidden"))
        except RuntimeError as e:
            raise pytest.UsageError(f"recap: {e}")
    if not hasattr(config, "workerinput"):  # xdist workers start after this, with this environment
        fd, r.saved_owned = tempfile.mkstemp(prefix="recap-pytest-saved-", suffix=".json")
        os.close(fd)
        os.environ["RECAP_PYTEST_SAVED"] = r.saved_owned


def pytest_unconfigure(config):
    r = getattr(config, "_recap", None)
    if r is not None:
        r.close()
    if getattr(r, "saved_owned", None):
        os.unlink(r.saved_owned)
    if r is not None and not r.targets:
        try:
            r.set_test(None)
        except RuntimeError:
            pass


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    r = getattr(item.config, "_recap", None)
    if r is None or call.when == "setup":
        return
    report = outcome.get_result()
    teardown = call.when == "teardown"
    phases = ("setup", "call") if not teardown else ("teardown",)
    # a part of a test that sent no labelled request has no calls to wait for; a followed test may still
    # have transactions of its own (a fixture writing directly)
    leaks = teardown and r.leaks is not None and (r.tracks or not r.targets or any(_sent.values()))
    verify = r.barrier and (r.tracks or not r.targets or any(_sent.get(p) for p in phases))
    rewound = None
    if teardown and r.isolate:  # the rewind ends the test first (as POST /tests/end): every row of it known
        try:
            rewound = r.rewind(item.nodeid)
        except RuntimeError as e:
            rewound = str(e)
    if leaks or verify:
        try:
            if teardown and r.isolate:
                pass
            elif teardown and r.tracks:
                r.end(item.nodeid)  # every call and transaction of the test recorded; it runs no more
            else:
                r.wait_recorded(sync=r.tracks)
            records = [] if not leaks and (not r.specs or report.skipped) else [
                (line, json.loads(line)) for line in r.calls(test=item.nodeid, orphans=r.tracks)]
        except RuntimeError as e:
            _fail(report, str(e))
            records = []
        if leaks:
            _report_leaks(r, item, report, [rec for _, rec in records])
        if verify and r.specs and not report.skipped:
            # setup's and the test's own calls on the test; teardown's on its teardown; orphans when seen
            found = r.findings(records, phases)
            if found:
                _fail(report, "recap verify found:\n" + "\n".join(found), "recap verify")
    if rewound:
        _fail(report, "recap could not rewind this test's row changes (the next tests see them):\n" + rewound,
              "recap rewind")


def _fail(report, text, section="recap"):
    if report.passed:
        report.outcome = "failed"
        report.longrepr = text
    else:
        report.sections.append((section, text))


def _report_leaks(r, item, report, records):
    found = r.leak_book.test_done(item.nodeid, records)
    if not found:
        return
    text = "\n".join(found)
    if r.leaks == "fail" and report.passed:
        report.outcome = "failed"
        report.longrepr = "recap found rows this test left behind or did not make:\n" + text
    else:  # a warning, shown in pytest's summary (from xdist workers too)
        item.warn(pytest.PytestWarning(f"recap leaks: {text}"))


def pytest_runtest_logreport(report):
    _ran.add(report.nodeid)  # on the controller too: xdist hands it every worker's reports


_ran = set()


def pytest_sessionfinish(session, exitstatus):
    """Tests ran and recap recorded none of their calls: nothing was verified, and the session says so."""
    r = getattr(session.config, "_recap", None)
    if r is None or hasattr(session.config, "workerinput") or not hasattr(r, "start_seq") or not _ran:
        return
    try:
        r.wait_recorded()
        r.labelled = sum(json.loads(line).get("test") in _ran for line in r.calls(after=r.start_seq))
    except RuntimeError as e:
        r.summary = f"recap: {e}"
        return
    if r.labelled == 0:
        r.summary = (f"recap: {len(_ran)} tests ran and recap recorded none of their calls: is the suite's base "
                     "URL recap's listener? Nothing was verified.")
        if session.config.getoption("recap_require_calls"):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
    else:
        r.summary = f"recap: {r.labelled} calls of {len(_ran)} tests recorded"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    r = getattr(config, "_recap", None)
    summary = getattr(r, "summary", None)
    if summary:
        terminalreporter.write_line(summary, red=getattr(r, "labelled", 1) == 0, bold=True)
