"""The layer rules of docs/ARCHITECTURE.md, checked by reading every import."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN: dict[str, set[str]] = {
    "core": {
        "streamlit",
        "streamlit_authenticator",
        "sqlmodel",
        "sqlalchemy",
        "alembic",
        "db",
        "ui",
        "screens",
    },
    "db": {"streamlit", "streamlit_authenticator", "ui", "screens"},
    # No SQL in ui/: it calls db services, which check who is acting. ui/db.py alone makes the engine.
    "ui": {"screens", "sqlmodel", "sqlalchemy", "alembic"},
    "screens": {"db", "sqlmodel", "sqlalchemy", "alembic"},
    "app.py": {"db", "core", "sqlmodel", "sqlalchemy"},
}
# The one module of a layer that may import what the rest of it may not, and what.
ALLOWED: dict[Path, set[str]] = {
    ROOT / "ui" / "db.py": {"sqlmodel", "sqlalchemy"},
}
# The ui modules that open a write transaction themselves: ui/db.py (act_as, the one way ui/ acts as the
# signed-in person) and the login gate in ui/auth.py (checking a password, starting and using a login
# session: there is nobody acting yet).
WRITERS = {ROOT / "ui" / "db.py", ROOT / "ui" / "auth.py"}
SESSION_CALLS = {"get", "exec", "execute", "scalar", "scalars", "add", "add_all", "delete", "merge", "query"}


def imported_top_levels(source: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def violations(layer: str, files: list[Path]) -> list[str]:
    found = []
    for path in files:
        bad = (imported_top_levels(path.read_text()) & FORBIDDEN[layer]) - ALLOWED.get(path, set())
        found += [f"{path.relative_to(ROOT)} imports {name}" for name in sorted(bad)]
    return found


def _files(layer: str) -> list[Path]:
    target = ROOT / layer
    return [target] if target.is_file() else sorted(target.rglob("*.py"))


@pytest.mark.parametrize("layer", list(FORBIDDEN))
def test_layer_imports_only_what_it_may(layer: str) -> None:
    files = _files(layer)
    assert files, f"{layer} has no Python files"
    assert violations(layer, files) == []


def test_the_checker_catches_a_planted_violation(tmp_path: Path) -> None:
    planted = tmp_path / "bad.py"
    planted.write_text("import os\nfrom streamlit import session_state\nimport sqlalchemy.orm as orm\n")
    assert imported_top_levels(planted.read_text()) == {"os", "streamlit", "sqlalchemy"}
    bad = imported_top_levels(planted.read_text()) & FORBIDDEN["core"]
    assert bad == {"streamlit", "sqlalchemy"}


def test_no_page_renders_raw_html() -> None:
    # ui/cookies.py runs a script: the cookie write Streamlit has no Python API for. ui/presenter.py adds
    # one constant style sheet (presenter mode hides the sidebar), never anything from the data.
    allowed = {ROOT / "ui" / "cookies.py", ROOT / "ui" / "presenter.py"}
    for path in [*_files("screens"), *_files("ui"), ROOT / "app.py"]:
        if path in allowed:
            continue
        text = path.read_text()
        assert "unsafe_allow_html" not in text and "st.html(" not in text, path


def _imported_names(source: str, module: str) -> set[str]:
    return {
        alias.name
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom) and node.module == module
        for alias in node.names
    }


def test_ui_writes_only_through_act_as() -> None:
    """Every write of ui/ goes through ui.db.act_as, which looks the signed-in person up and hands them to
    the service as its actor; no other ui module opens a write transaction of its own."""
    opening = [
        path.relative_to(ROOT)
        for path in _files("ui")
        if "write_session" in _imported_names(path.read_text(), "db.engine") and path not in WRITERS
    ]
    assert opening == []


def _session_calls(source: str) -> set[str]:
    """`session.get(...)`, `session.exec(...)` and the like: a query or a write on a session by hand."""
    return {
        f"session.{node.func.attr}"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id in {"session", "s"}
        and node.func.attr in SESSION_CALLS
    }


def test_no_ui_module_but_ui_db_queries_a_session_itself() -> None:
    found = {
        str(path.relative_to(ROOT)): calls
        for path in _files("ui")
        if path != ROOT / "ui" / "db.py" and (calls := _session_calls(path.read_text()))
    }
    assert found == {}


def test_the_ui_checkers_catch_a_planted_query() -> None:
    planted = "from db.engine import write_session\nfrom sqlmodel import select\nrow = session.get(User, 1)\n"
    assert "write_session" in _imported_names(planted, "db.engine")
    assert imported_top_levels(planted) & FORBIDDEN["ui"] == {"sqlmodel"}
    assert _session_calls(planted) == {"session.get"}
