"""The package's shape: no import cycles (nested imports included), small modules, and a light core."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import korea_bot

PACKAGE = Path(korea_bot.__file__).resolve().parent
MAX_LINES = 300


def module_name(path: Path) -> str:
    """The dotted module name of a file of the package."""
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def modules() -> dict[str, Path]:
    """Every module of the package by name."""
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _type_checking_lines(tree: ast.Module) -> set[int]:
    """Line numbers inside `if TYPE_CHECKING:` blocks (imports there never run)."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", "")) == "TYPE_CHECKING":
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The package modules a module imports anywhere in its body (function-level imports included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_lines(tree)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", 0) in skip:
            continue
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_walker_sees_relative_and_nested_imports() -> None:
    """The import walker resolves relative imports and imports inside functions (so the next test can fail)."""
    found = imports_of("korea_bot.embedding", PACKAGE / "embedding" / "__init__.py", set(modules()))
    assert {"korea_bot.errors", "korea_bot.embedding.base", "korea_bot.embedding.choose"} <= found
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles() -> None:
    """No module reaches itself through imports, counting the ones made inside functions."""
    mods = modules()
    graph = {name: imports_of(name, path, set(mods)) for name, path in mods.items()}
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_modules_are_small() -> None:
    """No module is longer than 300 lines."""
    long = {
        name: n for name, p in modules().items() if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, long


def test_only_the_discord_adapter_imports_discord() -> None:
    """Outside korea_bot.adapters.discord no module imports discord, even inside a function."""
    offenders = []
    for name, path in modules().items():
        if name.startswith("korea_bot.adapters.discord"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            if any(n == "discord" or n.startswith("discord.") for n in names):
                offenders.append(name)
    assert not offenders, offenders


def test_importing_any_core_module_loads_neither_discord_nor_torch() -> None:
    """Each non-Discord module imports without pulling in discord, torch or sentence-transformers (checked fresh)."""
    names = [n for n in modules() if not n.startswith("korea_bot.adapters.discord") and n != "korea_bot.__main__"]
    script = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "    heavy = sorted(m for m in ('discord', 'torch', 'sentence_transformers') if m in sys.modules)\n"
        "    if heavy:\n"
        "        sys.exit(f'{name} loads {heavy}')\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert len(names) > 30
