"""Every command shown in README.md and docs/ names things that exist: recap
subcommands and flags (against `--help`), make targets, files, the pytest
plugin's options, control API routes. Running them is the other tests' job
(the demo runs db setup, proxy and verify; test_51 db status and teardown;
test_70 the plugin; test_80 the compose wiring)."""
import glob
import os
import re
import subprocess

import harness

DOCS = [os.path.join(harness.ROOT, "README.md")] + sorted(glob.glob(os.path.join(harness.ROOT, "docs", "*.md")))


def commands():
    """(file, line number, command) for each command line in a fenced code block."""
    out = []
    for path in DOCS:
        fenced = False
        for n, line in enumerate(open(path), 1):
            if line.startswith("```"):
                fenced = not fenced
                continue
            text = line.split("  #")[0].strip()
            if fenced and re.match(r"(build/)?recap |make |docker compose |pytest |curl ", text):
                out.append((os.path.relpath(path, harness.ROOT), n, text))
    return out


def help_of(*cmd):
    out = subprocess.run([harness.RECAP, *cmd, "--help"], capture_output=True, text=True)
    assert out.returncode == 0, (cmd, out.stderr)
    return out.stdout


def test_docs_show_commands():
    assert len(commands()) >= 15


def test_every_documented_command_names_what_exists():
    top = help_of()
    makefile = open(os.path.join(harness.ROOT, "Makefile")).read()
    plugin = open(os.path.join(harness.ROOT, "integrations", "pytest", "recap_pytest.py")).read()
    routes = help_of("proxy")
    for path, n, cmd in commands():
        where = f"{path}:{n}: {cmd}"
        words = cmd.split()
        if words[0] in ("recap", "build/recap"):
            sub = words[1]
            assert re.search(rf"^\s+{sub}\s", top, re.M), f"{where}: no command {sub}"
            text = help_of(sub)
            if sub == "db":
                for action in re.split(r"[|]", words[2]):
                    assert action in ("setup", "status", "teardown"), where
            for flag in re.findall(r"--[a-z][a-z-]*", cmd):
                assert flag in text, f"{where}: recap {sub} has no {flag}"
        elif words[0] == "make":
            for target in words[1:]:
                assert re.search(rf"^{re.escape(target)}:", makefile, re.M), f"{where}: no make target {target}"
        elif words[0] == "docker":
            f = words[words.index("-f") + 1]
            assert os.path.exists(os.path.join(harness.ROOT, f)), where
        elif words[0] == "pytest":
            assert "-p recap_pytest" in cmd
            for opt in re.findall(r"--recap-[a-z-]+", cmd):
                assert f'"{opt}"' in plugin, f"{where}: the plugin has no {opt}"
        elif words[0] == "curl":
            url = next(w for w in words if "localhost" in w or "127.0.0.1" in w)
            route = "/" + url.split("/", 1)[1]
            assert route.startswith("/api/v1/") or route in routes, f"{where}: no route {route}"
