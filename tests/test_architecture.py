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
    "ui": {"screens"},
    "screens": {"db", "sqlmodel", "sqlalchemy", "alembic"},
    "app.py": {"db", "core", "sqlmodel", "sqlalchemy"},
}


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
        bad = imported_top_levels(path.read_text()) & FORBIDDEN[layer]
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
