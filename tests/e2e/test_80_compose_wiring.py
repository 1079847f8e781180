"""docker/compose.yml and docker/Dockerfile, read and run without Docker.

No Docker engine runs on these machines, so this test keeps the packaging
honest another way: every env var, flag, port and command the files use must
exist in `recap ... --help` and the Makefile, and the same wiring (same env
vars, same ports, same command lines, hosts mapped to 127.0.0.1) is brought
up from the files' own values and must pass the demo scenario and verify."""
import os
import re
import signal
import socket
import subprocess

import yaml

import harness

DOCKER = os.path.join(harness.ROOT, "docker")


def compose():
    with open(os.path.join(DOCKER, "compose.yml")) as f:
        return yaml.safe_load(f)


def dockerfile():
    with open(os.path.join(DOCKER, "Dockerfile")) as f:
        return f.read().replace("\\\n", " ")


def help_of(*cmd):
    out = subprocess.run([harness.RECAP, *cmd, "--help"], capture_output=True, text=True)
    assert out.returncode == 0, (cmd, out.stderr)
    return out.stdout


def recap_services(c):
    return {n: s for n, s in c["services"].items() if s.get("build", {}).get("dockerfile") == "docker/Dockerfile"}


def makefile_var(name):
    text = open(os.path.join(harness.ROOT, "Makefile")).read().replace("\\\n", " ")
    m = re.search(rf"^{name} := (.*)$", text, re.M)
    assert m, f"Makefile has no {name}"
    return m.group(1).split()


def port_of(addr):
    return int(addr.rsplit(":", 1)[1])


def test_every_env_var_flag_and_command_exists():
    c = compose()
    top = help_of()
    services = recap_services(c)
    assert set(services) == {"recap-setup", "recap", "verify"}
    for name, svc in services.items():
        sub = svc["command"][0]
        assert re.search(rf"^\s+{sub}\s", top, re.M), f"{name}: recap has no command {sub}"
        text = help_of(sub)
        for arg in svc["command"][1:]:
            if arg.startswith("--"):
                assert arg in text, f"{name}: recap {sub} has no {arg}"
        for var in svc.get("environment", {}):
            assert var in text, f"{name}: recap {sub} --help does not name {var}"
    d = dockerfile()
    env = dict(re.findall(r"\b(RECAP_[A-Z_]+)=(\S+)", d))
    proxy_help = help_of("proxy")
    for var in env:
        assert var in proxy_help, f"Dockerfile: {var} is not a recap proxy variable"
    # ports: what recap listens on, what the image exposes, what compose publishes, what the healthcheck asks
    exposed = sorted(int(p) for p in re.search(r"^EXPOSE (.*)$", d, re.M).group(1).split())
    assert exposed == sorted([port_of(env["RECAP_LISTEN"]), port_of(env["RECAP_CONTROL_LISTEN"])])
    svc = c["services"]["recap"]["environment"]
    published = {int(p.split(":")[1]) for p in c["services"]["recap"]["ports"]}
    assert published == {port_of(svc["RECAP_LISTEN"]), port_of(svc["RECAP_CONTROL_LISTEN"])} == set(exposed)
    health = re.search(r"HEALTHCHECK .*CMD (.*)$", d, re.M).group(1)
    assert f"http://127.0.0.1:{port_of(env['RECAP_CONTROL_LISTEN'])}/healthz" in health
    assert "/healthz" in help_of("proxy")
    # the upstream is the api service, on the port its image serves
    api_cmd = open(os.path.join(DOCKER, "api.Dockerfile")).read()
    api_port = int(re.search(r'"--port", "(\d+)"', api_cmd).group(1))
    assert svc["RECAP_UPSTREAM"] == f"http://api:{api_port}"
    # the image is built by `make release` and ships what that target builds, on the runtime packages
    assert re.search(r"^RUN .*\bmake release\b", d, re.M)
    makefile = open(os.path.join(harness.ROOT, "Makefile")).read()
    assert re.search(r"^release: deps-build$", makefile, re.M) and "build-release -j $(JOBS) --target recap" in makefile
    assert "COPY --from=build /src/build-release/recap /usr/local/bin/recap" in d
    runtime = re.search(r"apt-get install -y --no-install-recommends (.*?) &&", d.split("FROM debian:bookworm-slim")[1])
    assert sorted(runtime.group(1).split()) == sorted(makefile_var("RUNTIME_DEPS"))
    assert re.search(r"^USER recap$", d, re.M)  # not root


def free(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do: TIME_WAIT is not "taken"
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def test_the_same_wiring_without_containers_passes_the_demo(tmp_path):
    c = compose()
    svc = c["services"]
    for port in (8000, 8080, 9090):
        assert free(port), f"port {port} is taken: the wiring test uses compose's own ports"
    pg = harness.Postgres()
    procs = []
    try:
        pg.start()
        pg.psql("app", "DROP PUBLICATION IF EXISTS recap")

        def local(value):
            """A compose value on this machine: service hosts are 127.0.0.1, volumes are directories."""
            value = value.replace("app:app@postgres:5432", f"postgres@127.0.0.1:{pg.port}")
            value = re.sub(r"\b(api|recap):", "127.0.0.1:", value)
            value = value.replace("/capture/", f"{tmp_path}/").replace("/specs", os.path.join(harness.ROOT, "specs"))
            return value

        def env_of(name):
            return dict(os.environ, **{k: local(str(v)) for k, v in svc[name].get("environment", {}).items()})

        setup = subprocess.run([harness.RECAP, *svc["recap-setup"]["command"]], env=env_of("recap-setup"),
                               capture_output=True, text=True, timeout=60)
        assert setup.returncode == 0, setup.stderr

        app = harness.App(local(svc["api"]["environment"]["DATABASE_URL"]))
        app.port = 8000
        app.start()
        procs.append(app)

        recap_env = env_of("recap")
        stderr = open(tmp_path / "recap.stderr", "wb")
        recap = subprocess.Popen([harness.RECAP, *svc["recap"]["command"]], env=recap_env, stderr=stderr)
        control = f"http://127.0.0.1:{port_of(recap_env['RECAP_CONTROL_LISTEN'])}"
        harness.wait_http(f"{control}/readyz", timeout=20, proc=recap)

        cmd = svc["tests"]["command"]
        run = subprocess.run(cmd, env=env_of("tests"), cwd=harness.ROOT, capture_output=True, text=True,
                             timeout=120)
        assert run.returncode == 0, run.stdout + run.stderr
        assert '"calls": 12' in run.stdout

        verify = subprocess.run([harness.RECAP, *[local(a) for a in svc["verify"]["command"]]],
                                capture_output=True, text=True, timeout=120)
        assert verify.returncode == 0, verify.stdout + verify.stderr
        assert "PASS: 12 calls: 12 passed, 0 failed, 0 without a spec" in verify.stdout
        assert (tmp_path / "junit.xml").exists() and (tmp_path / "report.html").exists()

        recap.send_signal(signal.SIGTERM)
        assert recap.wait(20) == 0
        assert recap_env["RECAP_CAPTURE"] == f"{tmp_path}/recap.jsonl"
    finally:
        for p in procs:
            p.stop()
        if "recap" in locals() and recap.poll() is None:
            recap.kill()
        pg.stop()


def test_the_ci_workflow_runs_what_compose_defines():
    wf = yaml.safe_load(open(os.path.join(harness.ROOT, "integrations", "ci", "github-actions.yml")))
    steps = [s.get("run", "") for job in wf["jobs"].values() for s in job["steps"]]
    assert any("docker compose -f docker/compose.yml up" in s and "--exit-code-from verify" in s for s in steps)
    uploads = [s for job in wf["jobs"].values() for s in job["steps"] if "upload-artifact" in s.get("uses", "")]
    paths = " ".join(str(u["with"]["path"]) for u in uploads)
    assert "junit.xml" in paths and "report.html" in paths
