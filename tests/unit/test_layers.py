"""The layers the design promises: core is pure and acyclic, bot/ holds no SQL."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "release_bot"
OUTSIDE_WORLD = ("sqlalchemy", "slack_sdk", "slack_bolt", "alembic", "apscheduler", "psycopg",
                 "requests", "urllib", "socket", "threading", "release_bot.storage",
                 "release_bot.bot")


def imports(path: Path) -> set[str]:
    """Every module a file imports (at any level of the file)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def core_modules() -> dict[str, set[str]]:
    """core module name → the core modules it imports."""
    return {
        path.stem: {m.rsplit(".", 1)[-1] for m in imports(path)
                    if m.startswith("release_bot.core.")}
        for path in (SRC / "core").glob("*.py")
    }


def test_core_imports_nothing_of_the_outside_world() -> None:
    for path in (SRC / "core").glob("*.py"):
        bad = {m for m in imports(path) if m.startswith(OUTSIDE_WORLD)}
        assert not bad, f"{path.name} imports {sorted(bad)}"


def test_core_never_reads_the_clock() -> None:
    for path in (SRC / "core").glob("*.py"):
        text = path.read_text()
        assert ".now(" not in text and "time.time" not in text, path.name


def test_core_has_no_import_cycle() -> None:
    graph = core_modules()

    def visit(name: str, trail: tuple[str, ...]) -> None:
        assert name not in trail, " → ".join((*trail, name))
        for nxt in graph.get(name, ()):
            visit(nxt, (*trail, name))

    for module in graph:
        visit(module, ())


def test_only_storage_speaks_sql() -> None:
    for path in SRC.rglob("*.py"):
        if "storage" in path.relative_to(SRC).parts:
            continue
        bad = {m for m in imports(path) if m.startswith("sqlalchemy.sql") or m == "sqlalchemy"}
        assert not bad, f"{path.relative_to(SRC)} imports {sorted(bad)}"
