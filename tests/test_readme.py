"""The README's newcomer commands stay true: CI runs the README's test command verbatim."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```sh\n(.+?)\n```", text)[:2]


def test_readme_opens_with_run_and_test_commands():
    run, test = _readme_commands()
    assert "pip install ." in run and "scopes " in run
    assert "pip install '.[test]'" in test and "pytest" in test


def test_ci_runs_the_readme_test_command_verbatim():
    _, test = _readme_commands()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test in ci.splitlines()


def test_readme_examples_run():
    """The README's `>>>` examples are doctests, and its library example runs as written."""
    import doctest

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    parser = doctest.DocTestParser()
    test = parser.get_doctest(text, {"scopes": __import__("scopes")}, "README.md", "README.md", 0)
    assert test.examples, "the README lost its examples"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
    library = re.search(r"```python\n(import scopes\n.+?)```", text, re.DOTALL).group(1)
    exec(compile(library, "README.md", "exec"), {})  # noqa: S102 - the README's own example


def _section_block(title: str, language: str = "sh") -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.split(rf"^#+ {re.escape(title)}\n", text, maxsplit=1, flags=re.MULTILINE)[1]
    return re.search(rf"```{language}\n(.+?)```", section, re.DOTALL).group(1)


def test_readme_nginx_config_is_the_tested_file():
    example = (ROOT / "examples" / "nginx" / "scopes.conf").read_text(encoding="utf-8")
    assert _section_block("nginx", "nginx") == example


def test_readme_caddy_config_is_the_tested_file():
    example = (ROOT / "examples" / "caddy" / "Caddyfile").read_text(encoding="utf-8")
    assert _section_block("Caddy", "caddyfile") == example


def test_readme_metrics_table_is_what_the_server_exposes():
    """Every scopes_* metric of a full server is in the README's table, and no other."""
    from scopes.metrics import Metrics

    section = re.split(r"^### Metrics\n", (ROOT / "README.md").read_text(encoding="utf-8"),
                       flags=re.MULTILINE)[1].split("\n### ", 1)[0]
    documented = set(re.findall(r"^\| `(scopes_\w+)` \|", section, re.MULTILINE))
    exposed = {metric.name + ("_total" if metric.type == "counter" else "")
               for metric in Metrics(service=True).registry.collect()
               if metric.name.startswith("scopes_")}
    assert documented == exposed


def test_readme_token_service_flow_runs_as_written(tmp_path):
    """The README's whole token-service flow, on a free port instead of 8080."""
    import os
    import subprocess
    import sys

    from tests.servers import free_port

    script = _section_block("The token service")
    assert script.startswith("pip install '.[server]'\n")
    port = str(free_port())
    script = script.split("\n", 1)[1].replace("8080", port)
    script = script.replace("scopes serve &", f"scopes serve --port {port} &", 1)
    script = "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n" + script  # even on failure
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert ("allowed: GET /users/pigeon/preferences matches GET /users/{user_id}/preferences; "
            "granted by read:preferences user_id:pigeon") in done.stdout
    assert '"token_type":"Bearer"' in done.stdout


def test_readme_fastapi_example_is_the_documented_one():
    docs = (ROOT / "docs" / "asgi.md").read_text(encoding="utf-8").split("## FastAPI", 1)[1]
    documented = re.search(r"```python\n(.+?)```", docs, re.DOTALL).group(1)
    assert _section_block("FastAPI and Starlette", "python") == documented


ANALYSIS = "Least privilege, capabilities and tests of a policy"


def _section(title: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.split(rf"^## {re.escape(title)}\n", text, maxsplit=1, flags=re.MULTILINE)[1]
    return re.split(r"^## ", section, maxsplit=1, flags=re.MULTILINE)[0]


def test_readme_analysis_examples_print_what_they_show(capsys, tmp_path, monkeypatch):
    """Every `$ scopes ...` of the section, run in a directory holding what the text says: the
    decision log a real gateway wrote, `policy.toml` (the Courier policy) and the test file the
    section shows. Each prints what follows it (stdout, then stderr); `$ echo $?` its code."""
    import shlex
    import shutil

    from scopes.cli import main
    from tests.test_analysis_cli import REQUESTS, _log

    section = _section(ANALYSIS)
    monkeypatch.chdir(tmp_path)
    _log(tmp_path, REQUESTS)  # writes decisions.jsonl
    shutil.rmtree(tmp_path / "keys")
    shutil.copy(ROOT / "scopes" / "policy" / "courier.toml", tmp_path / "policy.toml")
    [tests] = [b for b in re.findall(r"```toml\n(.+?)```", section, re.DOTALL) if b.startswith("# checks/")]
    name = tests.splitlines()[0].removeprefix("# ")
    (tmp_path / name).parent.mkdir()
    (tmp_path / name).write_text(tests, encoding="utf-8")

    blocks = re.findall(r"```console\n(.+?)```", section, re.DOTALL)
    assert len(blocks) == 4
    ran, code = 0, None
    for block in blocks:
        for command in re.split(r"^\$ ", block, flags=re.MULTILINE)[1:]:
            line, *shown = command.splitlines()
            if line == "echo $?":
                assert shown == [str(code)], line
                continue
            argv = shlex.split(line)
            assert argv[0] == "scopes"
            code = main(argv[1:])
            out, err = capsys.readouterr()
            assert (out + err).splitlines() == shown, line
            ran += 1
    assert ran == 6
