"""Bad input of every kind: a clear one-line message (or 400), exit 2, never a
crash, and the proxy keeps serving."""
import os
import signal
import socket
import subprocess
import threading
import time

import httpx

from harness import RECAP, read_capture


def run(*args, env=None):
    return subprocess.run([RECAP, *args], capture_output=True, text=True, timeout=10,
                          env=dict(os.environ, **(env or {})))


def test_unknown_flag():
    r = run("proxy", "--upstream", "http://127.0.0.1:1", "--bogus")
    assert r.returncode == 2
    assert r.stderr.strip() == "recap: proxy: unknown flag '--bogus' (see recap proxy --help)"


def test_bad_values():
    for args, msg in [
        (["--max-body", "lots"], "--max-body: 'lots' is not a size"),
        (["--listen", "nowhere"], "--listen: 'nowhere' is not [host]:port"),
        (["--upstream-timeout", "-3"], "--upstream-timeout: '-3' is not a duration"),
        (["--tls-cert", "/x"], "--tls-cert and --tls-key go together"),
    ]:
        r = run("proxy", "--upstream", "http://127.0.0.1:1", *args)
        assert r.returncode == 2, args
        assert msg in r.stderr and r.stderr.count("\n") == 1, r.stderr
    r = run("proxy", "--upstream", "http://127.0.0.1:1", "--database-url", "not a url")
    assert r.returncode == 2
    assert r.stderr == ("recap: proxy: --database-url: not a postgresql:// URL nor key=value settings: "
                        "missing \"=\" after \"not\" in connection info string\n"), r.stderr
    r = run("proxy")
    assert r.returncode == 2 and "no upstream" in r.stderr
    r = run("proxy", "--upstream", "ftp://x")
    assert r.returncode == 2 and "not an http:// or https:// URL" in r.stderr
    r = run("frobnicate")
    assert r.returncode == 2 and "unknown command 'frobnicate'" in r.stderr


def test_help_and_version():
    r = run("proxy", "--help")
    assert r.returncode == 0 and "--upstream URL" in r.stdout and "RECAP_CAPTURE" in r.stdout
    r = run("version")
    assert r.returncode == 0 and r.stdout.startswith("recap ")
    assert run("--help").returncode == 0


def test_capture_in_missing_directory(tmp_path):
    path = tmp_path / "no" / "such" / "dir" / "c.jsonl"
    r = run("proxy", "--upstream", "http://127.0.0.1:1", "--listen", "127.0.0.1:0",
            "--control-listen", "127.0.0.1:0", "--capture", str(path))
    assert r.returncode == 2
    assert r.stderr.strip() == f"recap: proxy: cannot open capture file {path}: No such file or directory"


def test_foreign_capture_file_is_not_clobbered(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text("hello, I am somebody's notes\n")
    r = run("proxy", "--upstream", "http://127.0.0.1:1", "--listen", "127.0.0.1:0",
            "--control-listen", "127.0.0.1:0", "--capture", str(path))
    assert r.returncode == 2
    assert r.stderr.startswith(f"recap: proxy: {path}:1:5: not a recap capture:"), r.stderr
    assert r.stderr.count("\n") == 1
    assert path.read_text() == "hello, I am somebody's notes\n"


def test_env_fallbacks(app, tmp_path):
    from harness import free_port, wait_http
    port, cport = free_port(), free_port()
    cap = tmp_path / "env.jsonl"
    p = subprocess.Popen([RECAP, "proxy"], env=dict(os.environ, RECAP_UPSTREAM=app.url,
                                                    RECAP_LISTEN=f"127.0.0.1:{port}",
                                                    RECAP_CONTROL_LISTEN=f"127.0.0.1:{cport}",
                                                    RECAP_CAPTURE=str(cap)),
                         stderr=subprocess.DEVNULL)
    try:
        wait_http(f"http://127.0.0.1:{cport}/healthz", proc=p)
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/health").status_code == 200
    finally:
        p.send_signal(signal.SIGTERM)
        assert p.wait(10) == 0
    header, recs = read_capture(cap)
    assert header["upstream"] == app.url and len(recs) == 1


def raw(port, data):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk


def test_malformed_http_gets_400_and_proxy_keeps_serving(recap):
    for junk in [b"GARBAGE\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: zz\r\n\r\n",
                 b"\x00\x01\x02\x03\xff\xfe\r\n\r\n", b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"]:
        out = raw(recap.port, junk)
        assert out.startswith(b"HTTP/1.1 400"), out[:80]
    raw(recap.port, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x04garbage")  # h2: answered with frames, then closed
    assert httpx.get(f"{recap.url}/api/v1/health").status_code == 200
    assert recap.proc.poll() is None


def test_sigterm_lets_calls_in_flight_finish(recap):
    got = {}
    t = threading.Thread(target=lambda: got.update(r=httpx.get(f"{recap.url}/api/v1/slow?ms=700", timeout=10)))
    t.start()
    time.sleep(0.2)
    assert recap.stop() == 0
    t.join()
    assert got["r"].status_code == 200
    (rec,) = recap.records()
    assert rec["response"]["status"] == 200 and rec["aborted"] is False


def test_restart_appends_and_continues_seq(app, recap_factory, tmp_path):
    cap = str(tmp_path / "c.jsonl")
    r1 = recap_factory(app.url, capture=cap)
    httpx.get(f"{r1.url}/api/v1/health")
    r1.barrier()
    assert r1.stop() == 0
    with open(cap, "a") as f:
        f.write('{"type":"call","seq":')  # a torn last line, as after a crash
    r2 = recap_factory(app.url, capture=cap)
    httpx.get(f"{r2.url}/api/v1/health")
    r2.barrier()
    assert r2.stop() == 0
    lines = open(cap).read().splitlines()
    assert '{"type":"call","seq":' not in lines  # the torn line is cut: only whole lines, ever
    assert sum('"type":"header"' in l for l in lines) == 2
    import json
    seqs = [json.loads(l)["seq"] for l in lines if json.loads(l)["type"] == "call"]  # every line parses
    assert seqs == [1, 2]
    assert "not a whole line" in r2.stderr()
