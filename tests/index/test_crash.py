"""kill -9 of a real `korea-bot index` at any moment, or a full disk, leaves the previous version loadable."""

from __future__ import annotations

import errno
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers.corpora import PYTHON, assert_verbatim, cli_env, make_corpus, service, snapshot

from korea_bot.embedding import HashEmbedder
from korea_bot.errors import user_message
from korea_bot.index import build_index, load_index, store
from korea_bot.index.keyword import KeywordIndex
from korea_bot.index.store import CURRENT, VERSIONS, current_version, list_versions, version_key

# Runs `korea-bot index` with pause points wrapped around the real steps; prints PAUSED and sleeps at CRASH_AT.
WRAPPER = r"""
import os, shutil, sys, time
from korea_bot.index import build
from korea_bot.index.keyword import KeywordIndex
from korea_bot.adapters.cli.main import main

point = os.environ["CRASH_AT"]

def pause(name):
    if name == point:
        print("PAUSED", name, flush=True)
        time.sleep(600)

real_replace, real_rmtree = os.replace, shutil.rmtree
def replace(src, dst, *a, **k):
    if os.path.basename(dst) == "CURRENT":
        pause("current-tmp-written")
    real_replace(src, dst, *a, **k)
    if os.path.basename(src).startswith(".tmp-"):
        pause("renamed-not-switched")
    if os.path.basename(dst).startswith(".del-"):
        pause("old-version-half-deleted")
os.replace = replace

real_save = KeywordIndex.save
def save(self, folder):
    real_save(self, folder)
    pause("staging-half-written")
KeywordIndex.save = save

real_cleanup, calls = build.cleanup, []
def cleanup(index_dir, *a, **k):
    calls.append(1)
    pause("locked" if len(calls) == 1 else "switched")
    real_cleanup(index_dir, *a, **k)
build.cleanup = cleanup  # called once under the lock before the build and once after the switch

sys.exit(main(["index", "--sources", sys.argv[1], "--index", sys.argv[2]]))
"""
POINTS = {  # pause point -> the version that must be live afterwards
    "locked": "old",
    "staging-half-written": "old",
    "renamed-not-switched": "old",
    "current-tmp-written": "old",
    "switched": "new",
    "old-version-half-deleted": "new",
}


def _setup(tmp_path: Path, n_files: int = 8) -> tuple[Path, Path, dict[str, str], str]:
    """Two published versions, then the sources changed (one edited, one removed, one added)."""
    sources, index = tmp_path / "sources", tmp_path / "index"
    texts = make_corpus(sources, n_files=n_files)
    build_index(sources, index, HashEmbedder(64))
    (sources / "doc001.txt").write_text(texts["doc001.txt"] + "\nFirst edit.\n", "utf-8")
    build_index(sources, index, HashEmbedder(64))
    old_texts, old = snapshot(sources), current_version(index)
    assert old
    (sources / "doc002.txt").write_text(texts["doc002.txt"] + "\nA lighthouse rose over Zone002.\n", "utf-8")
    (sources / "doc003.txt").unlink()
    (sources / "extra.txt").write_text("Report on Zone999\n\nThe glacier of Zone999 moved north.\n", "utf-8")
    return sources, index, old_texts, old


def _check_after_crash(sources: Path, index: Path, old: str, old_texts: dict[str, str], expect: str) -> None:
    """The expected version loads whole and quotes verbatim; the next build cleans every leftover up."""
    loaded = load_index(index)
    assert not loaded.notes, loaded.notes
    assert (loaded.version == old) == (expect == "old")
    texts = old_texts if expect == "old" else snapshot(sources)
    answer = service(sources, index).ask("Report on Zone004 harbor")
    assert answer.index_version == loaded.version
    assert_verbatim(answer, texts)
    report = build_index(sources, index, HashEmbedder(64))  # the lock was released by the kernel
    assert current_version(index) == report.version
    assert not [p for p in (index / VERSIONS).iterdir() if p.name.startswith(".")]
    assert len(list_versions(index)) <= 2 and list_versions(index)[0] == report.version
    assert_verbatim(service(sources, index).ask("lighthouse Zone002"), snapshot(sources))


@pytest.mark.parametrize("point", list(POINTS))
def test_kill_9_at_each_step_leaves_a_loadable_index(tmp_path: Path, point: str) -> None:
    sources, index, old_texts, old = _setup(tmp_path)
    proc = subprocess.Popen(
        [PYTHON, "-c", WRAPPER, str(sources), str(index)],
        env=cli_env(CRASH_AT=point),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        assert line.strip() == f"PAUSED {point}", line
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(30)
    assert proc.returncode == -signal.SIGKILL
    if point in ("staging-half-written", "renamed-not-switched", "old-version-half-deleted"):
        leftovers = [p.name for p in (index / VERSIONS).iterdir()]
        assert len(leftovers) >= 3, leftovers  # the crash really left something behind
    _check_after_crash(sources, index, old, old_texts, POINTS[point])


def test_kill_9_after_random_delays(tmp_path: Path) -> None:
    rng = random.Random(4)
    sources, index, old_texts, old = _setup(tmp_path, n_files=40)
    started = time.monotonic()
    subprocess.run([PYTHON, "-m", "korea_bot", "index", "--sources", str(sources), "--index", str(tmp_path / "probe")],
                   env=cli_env(), check=True, capture_output=True)  # fmt: skip
    duration = time.monotonic() - started
    for _ in range(4):
        before = current_version(index)
        proc = subprocess.Popen([PYTHON, "-m", "korea_bot", "index", "--full", "--sources", str(sources), "--index",
                                 str(index)], env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        time.sleep(rng.uniform(0.2, duration))
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        loaded = load_index(index)
        assert not loaded.notes and loaded.version in (before, current_version(index))
        texts = old_texts if loaded.version == old else snapshot(sources)
        assert_verbatim(service(sources, index).ask("Report on Zone004 harbor"), texts)
    _check_after_crash(sources, index, old, old_texts, "old" if load_index(index).version == old else "new")


def _no_space(*_args: object, **_kw: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_full_disk_while_staging_keeps_the_previous_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sources, index, old_texts, old = _setup(tmp_path)
    monkeypatch.setattr(KeywordIndex, "save", _no_space)
    with pytest.raises(OSError) as err:
        build_index(sources, index, HashEmbedder(64))
    message = user_message(err.value)
    assert (
        message and message.startswith("disk full while writing ") and message.endswith("previous index is unchanged")
    )
    assert ".tmp-" in message and "\n" not in message
    assert current_version(index) == old and not [p for p in (index / VERSIONS).iterdir() if p.name.startswith(".")]
    monkeypatch.undo()
    _check_after_crash(sources, index, old, old_texts, "old")


def test_full_disk_while_switching_current(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sources, index, old_texts, old = _setup(tmp_path)
    real_open = open

    def fake_open(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(path).endswith(f".{CURRENT}.tmp"):
            _no_space()
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(store, "open", fake_open, raising=False)
    with pytest.raises(OSError):
        build_index(sources, index, HashEmbedder(64))
    assert current_version(index) == old
    assert all(version_key(v) <= version_key(old) for v in list_versions(index))  # no orphan left behind
    monkeypatch.undo()
    _check_after_crash(sources, index, old, old_texts, "old")


def _du(folder: Path) -> int:
    """Bytes used by the files under folder, counted in 4 kB pages as tmpfs does."""
    return sum(-(-p.stat().st_size // 4096) * 4096 for p in folder.rglob("*") if p.is_file())


@pytest.fixture
def tiny_disk(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A factory mounting a tmpfs of a given size (needs root and mount; skipped elsewhere)."""
    mounts: list[Path] = []
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root")

    def mount(size: int) -> Path:
        target = tmp_path / f"disk{len(mounts)}"
        target.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(target)], capture_output=True)
        if done.returncode:
            pytest.skip(f"cannot mount a tmpfs: {done.stderr.decode(errors='replace').strip()}")
        mounts.append(target)
        return target

    yield mount
    for target in mounts:
        subprocess.run(["umount", "-l", str(target)], check=False)


def test_real_full_disk_keeps_the_previous_version(tmp_path: Path, tiny_disk) -> None:  # type: ignore[no-untyped-def]
    sources = tmp_path / "sources"
    old_texts = make_corpus(sources, n_files=4)
    probe = build_index(sources, tmp_path / "probe", HashEmbedder(64)).version
    size = 2 * _du(tmp_path / "probe" / VERSIONS / probe) + 64 * 1024  # room for one version, not for 4x that
    index = tiny_disk(size) / "index"
    old = build_index(sources, index, HashEmbedder(64)).version
    make_corpus(sources / "big", n_files=16, seed=1)
    done = subprocess.run([PYTHON, "-m", "korea_bot", "index", "--sources", str(sources), "--index", str(index)],
                          env=cli_env(KOREA_BOT_LOG_LEVEL="WARNING"), capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 1, (size, done.stdout, done.stderr)
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]  # one line, no traceback
    assert "disk full while writing" in done.stderr and "previous index is unchanged" in done.stderr
    assert current_version(index) == old and not [p for p in (index / VERSIONS).iterdir() if p.name.startswith(".")]
    assert_verbatim(service(sources, index).ask("Report on Zone002"), old_texts)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
