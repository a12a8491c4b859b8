"""The documents a new user follows: the README's install steps are the image's, the licence is there, the answer
picture is drawn by a script from the current renderer, and the eval commands point at files a clone has."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

from helpers.paths import ROOT

README = ROOT / "README.md"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def readme_linux_steps() -> list[str]:
    """The commands of the README's Linux setup block."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("**Linux**") :]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block, "no ```bash block after **Linux** in README.md"
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


def pip_args(command: str) -> list[str]:
    """The arguments of a `pip install` command, without cache and quiet flags and with the CPU index resolved."""
    pip = next(part for part in command.split("&&") if "pip install" in part)
    words = shlex.split(pip.replace('"${TORCH_INDEX_URL}"', CPU_INDEX))
    words = words[words.index("install") + 1 :]
    return [w for w in words if w not in {"--no-cache-dir", "--quiet", "-q"}]


def test_readme_installs_like_the_image_builder() -> None:
    """The fresh-venv slow test installs the way the Dockerfile's builder does: so the README's steps are tested."""
    from deploy.test_container import parse_dockerfile, split_stages, stage_name

    _, stages = split_stages(parse_dockerfile((ROOT / "Dockerfile").read_text(encoding="utf-8")))
    builder = next(s for s in stages if stage_name(s) == "builder")
    image = [pip_args(i.value) for i in builder if i.keyword == "RUN" and "pip install" in i.value]
    steps = readme_linux_steps()
    assert steps[0] == "python3 -m venv .venv" and steps[1] == ". .venv/bin/activate"
    readme = [pip_args(s) for s in steps if s.startswith("pip install")]
    assert [sorted(a) for a in readme] == [sorted(a) for a in image], (readme, image)
    assert steps[-1].startswith("korea-bot ask ")
    assert not any("upgrade" in s for s in steps), "the stock pip of python3 -m venv must be enough"


def test_readme_says_nothing_of_this_machine() -> None:
    text = README.read_text(encoding="utf-8")
    for phrase in ("local disk", "this project's machines", "this machine"):
        assert phrase not in text, phrase
    for system in ("**Linux**", "**macOS**", "**Windows**"):
        assert system in text


def test_licence_file_is_the_mit_licence_pyproject_names() -> None:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert meta["project"]["license"] == "MIT"
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "Permission is hereby granted, free of charge" in text


def test_answer_picture_script_draws_from_the_current_renderer(tmp_path: Path) -> None:
    out = tmp_path / "answer.png"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "discord_mockup.py"), "--model", "hash:64", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    from PIL import Image

    with Image.open(out) as img:
        assert img.format == "PNG" and img.width == 900 and img.height > 200
    with Image.open(ROOT / "docs" / "discord-answer.png") as shipped:
        assert shipped.format == "PNG" and shipped.width == 900


def test_evaluation_commands_use_files_a_clone_has() -> None:
    """Every `korea-bot eval FILE` in docs/EVALUATION.md names a file in the repository or in ../shared/eval (which
    the document says where to get)."""
    text = (ROOT / "docs" / "EVALUATION.md").read_text(encoding="utf-8")
    files = re.findall(r"korea-bot eval (?:--json )?([^\s`]+)", text)
    assert files
    in_repo = [f for f in files if not f.startswith("../shared/")]
    assert in_repo, "no command runs on a file the repository ships"
    for name in in_repo:
        assert (ROOT / name).exists(), name
    assert "../shared/eval" not in text or "where to get them" in text.lower()
