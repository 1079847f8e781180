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


class _ComposeLoader(yaml.SafeLoader):
    """Compose's merge tags: !reset (the value is emptied) and !override (replaced, not merged)."""


def _merge_tag(loader, suffix, node):
    value = (loader.construct_mapping(node, deep=True) if isinstance(node, yaml.MappingNode) else
             loader.construct_sequence(node, deep=True) if isinstance(node, yaml.SequenceNode) else
             None if loader.construct_scalar(node) in ("", "null", "~") else loader.construct_scalar(node))
    return ("replace", value)


_ComposeLoader.add_multi_constructor("!", _merge_tag)


def merged(base, over):
    """`docker compose -f base -f over`: mappings merge, anything else is replaced, tagged values replace."""
    if isinstance(over, tuple):
        return over[1]
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = merged(base.get(k), v)
        return {k: v for k, v in out.items() if v is not None or k not in over}
    return over


def own_api():
    with open(os.path.join(DOCKER, "compose.own-api.yml")) as f:
        return merged(compose(), yaml.load(f, Loader=_ComposeLoader))


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
    assert {port_of(svc["RECAP_LISTEN"]), port_of(svc["RECAP_CONTROL_LISTEN"])} == set(exposed)
    published = {int(str(p).split("#")[0].split(":")[1]) for p in c["services"]["recap"]["ports"]}
    assert published == {port_of(svc["RECAP_LISTEN"])}  # the control API has no token here: not published
    # healthy = ready: streaming row changes (the image and the compose service alike)
    health = re.search(r"HEALTHCHECK .*CMD (.*)$", d, re.M).group(1)
    assert f"http://127.0.0.1:{port_of(env['RECAP_CONTROL_LISTEN'])}/readyz" in health
    assert f"http://127.0.0.1:{port_of(svc['RECAP_CONTROL_LISTEN'])}/readyz" in c["services"]["recap"]["healthcheck"]["test"]
    assert "/readyz" in help_of("proxy")
    # the postgres healthcheck asks over TCP (-h): the unix socket alone answers during the image's first init
    pg_health = c["services"]["postgres"]["healthcheck"]["test"]
    assert "pg_isready" in pg_health and pg_health[pg_health.index("-h") + 1] == "127.0.0.1"
    # setup waits for the server; the specs are mounted, not only baked in; host builds stay out of the image
    assert "--wait" in c["services"]["recap-setup"]["command"]
    assert any(str(v).startswith("../specs:/specs") for v in c["services"]["verify"]["volumes"])
    ignored = open(os.path.join(harness.ROOT, ".dockerignore")).read().split()
    assert "build*/" in ignored and ".demo/" in ignored
    # verify runs whether the suite passed or not: it waits for the suite's container to complete, and the
    # suite's own status is kept for it, never returned
    assert c["services"]["verify"]["depends_on"]["tests"]["condition"] == "service_completed_successfully"
    assert "tests.exit" in c["services"]["tests"]["entrypoint"][2]
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
    verify = run_the_wiring(tmp_path)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "PASS: 12 calls: 12 passed, 0 failed, 0 without a spec" in verify.stdout
    assert "suite exited 0, recap verify 0" in verify.stdout


def test_a_failing_suite_still_gets_its_reports_and_fails_the_stack(tmp_path):
    """A suite that makes its calls and then fails (exit 1): verify still runs and writes its reports, and the
    stack's exit status is non-zero."""
    verify = run_the_wiring(tmp_path, failing=True)
    assert verify.returncode != 0, verify.stdout
    assert "suite exited 1" in verify.stdout
    assert (tmp_path / "junit.xml").exists() and (tmp_path / "report.html").exists()


def entrypoint(service, command, env, cwd=None):
    """A service's entrypoint (`sh -c SCRIPT NAME`) with its command as the script's arguments."""
    ep = service["entrypoint"]
    assert ep[:2] == ["sh", "-c"]
    path = os.path.dirname(harness.RECAP) + os.pathsep + env.get("PATH", "")
    return subprocess.run([*ep, *command], env=dict(env, PATH=path), cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def run_the_wiring(tmp_path, failing=False, c=None):
    """The compose services started in compose's order from the file's own values (compose.yml, or c: it
    merged with an override); returns verify's run."""
    c = c or compose()
    svc = c["services"]
    own = "migrate" in svc  # compose.own-api.yml: an empty database, migrations after recap started
    for port in (8000, 8080, 9090):
        assert free(port), f"port {port} is taken: the wiring test uses compose's own ports"
    pg = harness.Postgres()
    procs = []
    try:
        pg.start()
        pg.psql("app", "DROP PUBLICATION IF EXISTS recap")
        db = "app"
        if own:  # the team's own database: empty until its migrations run
            pg.psql("postgres", "CREATE DATABASE own")
            db = "own"

        def local(value):
            """A compose value on this machine: service hosts are 127.0.0.1, volumes are directories, compose's
            `$$` is the shell's `$`, ${API_PORT:-8000} as compose expands it."""
            value = value.replace("$$", "$").replace("${API_PORT:-8000}", "8000")
            value = value.replace("app:app@postgres:5432/app", f"postgres@127.0.0.1:{pg.port}/{db}")
            value = re.sub(r"\b(api|recap):", "127.0.0.1:", value)
            value = value.replace("/capture/", f"{tmp_path}/").replace("/specs", os.path.join(harness.ROOT, "specs"))
            return value

        def env_of(name):
            return dict(os.environ, **{k: local(str(v)) for k, v in svc[name].get("environment", {}).items()})

        setup = subprocess.run([harness.RECAP, *svc["recap-setup"]["command"]], env=env_of("recap-setup"),
                               capture_output=True, text=True, timeout=60)
        assert setup.returncode == 0, setup.stderr
        assert ("no tables yet" in setup.stdout) == own, setup.stdout

        app = harness.App(local(svc["api"]["environment"]["DATABASE_URL"]))
        app.port = 8000

        def start_recap():
            recap_env = env_of("recap")
            stderr = open(tmp_path / "recap.stderr", "wb")
            recap = subprocess.Popen([harness.RECAP, *svc["recap"]["command"]], env=recap_env, stderr=stderr)
            control = f"http://127.0.0.1:{port_of(recap_env['RECAP_CONTROL_LISTEN'])}"
            harness.wait_http(f"{control}/readyz", timeout=20, proc=recap)
            return recap, recap_env

        if own:  # recap first, then the migrations (the example schema stands in for MIGRATE), then the API
            recap, recap_env = start_recap()
            subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(pg.port), "-U",
                            "postgres", "-d", db, "-f", os.path.join(harness.ROOT, "tests", "app", "schema.sql")],
                           check=True, capture_output=True, env=dict(env_of("migrate")))
            app.start()
            procs.append(app)
        else:
            app.start()
            procs.append(app)
            recap, recap_env = start_recap()

        tests = svc["tests"]
        script = [local(tests["entrypoint"][2]), tests["entrypoint"][3]]
        command = tests["command"] if not own else ["/usr/bin/python3", "tests/scenario.py"]  # stands in for TESTS
        command = command if not failing else ["sh", "-c", " ".join(command) + "; exit 1"]
        run = entrypoint({"entrypoint": tests["entrypoint"][:2] + script}, command, env_of("tests"), cwd=harness.ROOT)
        assert run.returncode == 0, run.stdout + run.stderr  # the suite's own status is kept, not returned
        assert (tmp_path / "tests.exit").read_text().strip() == ("1" if failing else "0")

        verify_svc = dict(svc["verify"], entrypoint=svc["verify"]["entrypoint"][:2] +
                          [local(svc["verify"]["entrypoint"][2]), svc["verify"]["entrypoint"][3]])
        verify = entrypoint(verify_svc, [local(a) for a in svc["verify"]["command"]], dict(os.environ))
        assert (tmp_path / "junit.xml").exists() and (tmp_path / "report.html").exists()

        recap.send_signal(signal.SIGTERM)
        assert recap.wait(20) == 0
        assert recap_env["RECAP_CAPTURE"] == f"{tmp_path}/recap.jsonl"
        return verify
    finally:
        for p in procs:
            p.stop()
        if "recap" in locals() and recap.poll() is None:
            recap.kill()
        pg.stop()


def test_your_own_api_with_its_migrations_in_the_override_s_order(tmp_path):
    """docker/compose.own-api.yml over compose.yml: an empty database, `recap db setup` on it, recap streaming
    before the migrations make the schema, the API after them; the suite's calls carry their rows and verify
    passes (the example API and its schema stand in for API_IMAGE and MIGRATE)."""
    c = own_api()
    svc = c["services"]
    assert svc["postgres"]["volumes"] == []  # no example schema
    assert svc["migrate"]["depends_on"] == {"recap": {"condition": "service_healthy"}}
    assert svc["api"]["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    assert svc["recap"]["depends_on"] == {"recap-setup": {"condition": "service_completed_successfully"}}
    assert svc["tests"]["depends_on"] == {"recap": {"condition": "service_healthy"},
                                         "api": {"condition": "service_started"}}
    assert "build" not in svc["api"] and "build" not in svc["tests"] and svc["api"]["image"] == "${API_IMAGE}"
    assert svc["recap"]["environment"]["RECAP_UPSTREAM"] == "http://api:${API_PORT:-8000}"
    assert svc["recap"]["environment"]["RECAP_DATABASE_URL"] == svc["migrate"]["environment"]["DATABASE_URL"]
    assert svc["verify"]["volumes"] == ["capture:/capture", "${SPECS_DIR:-../specs}:/specs:ro"]
    c["services"]["verify"]["volumes"] = ["capture:/capture", "../specs:/specs:ro"]
    for name in ("migrate", "api", "tests"):  # everything else is compose.yml's, flags and all
        assert name in svc
    verify = run_the_wiring(tmp_path, c=c)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "PASS: 12 calls: 12 passed, 0 failed, 0 without a spec" in verify.stdout
    assert "suite exited 0, recap verify 0" in verify.stdout


def test_the_ci_workflow_runs_what_compose_defines():
    wf = yaml.safe_load(open(os.path.join(harness.ROOT, "integrations", "ci", "github-actions.yml")))
    steps = [s.get("run", "") for job in wf["jobs"].values() for s in job["steps"]]
    assert any("docker compose -f docker/compose.yml run --rm --build verify" in s for s in steps)
    uploads = [s for job in wf["jobs"].values() for s in job["steps"] if "upload-artifact" in s.get("uses", "")]
    paths = " ".join(str(u["with"]["path"]) for u in uploads)
    assert "junit.xml" in paths and "report.html" in paths
