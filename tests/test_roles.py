"""Roles are named in code by db.models.Role, never by a bare string: a typo in an enum member fails at
import, a typo in a string silently denies (or grants) a page."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from db.models import Role
from ui.navigation import EVERYONE, HOME, PAGES, home_for, pages_for

ROOT = Path(__file__).resolve().parent.parent
ROLE_NAMES = {role.value for role in Role}
CODE = [
    ROOT / "app.py",
    *(p for layer in ("ui", "db", "screens") for p in sorted((ROOT / layer).rglob("*.py"))),
]


def _role_strings(node: ast.AST) -> list[str]:
    """The role names written as string constants in `node` (a constant, or a tuple/list/set of them)."""
    items = node.elts if isinstance(node, ast.Tuple | ast.List | ast.Set) else [node]
    return [i.value for i in items if isinstance(i, ast.Constant) and i.value in ROLE_NAMES]


def _is_role(node: ast.AST) -> bool:
    """`x.role`, `role`, or polars' `pl.col("role")`."""
    if isinstance(node, ast.Attribute):
        return node.attr == "role"
    if isinstance(node, ast.Name):
        return node.id == "role"
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "col"
        and [a.value for a in node.args if isinstance(a, ast.Constant)] == ["role"]
    )


def bare_roles(source: str) -> list[str]:
    """Where a role is compared with, or required as, a string literal."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare) and _is_role(node.left):
            found += [
                f"line {node.lineno}: role compared with {s!r}"
                for c in node.comparators
                for s in _role_strings(c)
            ]
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", "")) == "require_role"
        ):
            found += [f"line {node.lineno}: require_role({s!r})" for a in node.args for s in _role_strings(a)]
    return found


def test_no_role_is_compared_or_required_as_a_bare_string() -> None:
    found = {str(p.relative_to(ROOT)): bare_roles(p.read_text()) for p in CODE}
    assert {path: lines for path, lines in found.items() if lines} == {}


def test_the_checker_catches_planted_strings() -> None:
    planted = (
        'if user.role == "rep": pass\n'
        'ok = user.role in ("marketer", "sales_manager")\n'
        'require_role("admin")\n'
        'people.filter(pl.col("role") == "executive")\n'
        'if user.role == Role.rep and scope.level == "rep": pass\n'
    )
    assert len(bare_roles(planted)) == 5


def test_the_page_registry_names_roles_by_the_enum() -> None:
    assert frozenset(Role) == EVERYONE
    assert all(isinstance(role, Role) for page in PAGES for role in page.roles)
    assert set(HOME) == set(Role)


@pytest.mark.parametrize("role", list(Role))
def test_a_role_and_its_stored_value_find_the_same_pages(role: Role) -> None:
    """CurrentUser.role holds the value as read from the database; the enum compares equal to it."""
    assert pages_for(role) == pages_for(role.value) and pages_for(role)
    assert home_for(role.value).url_path == HOME[role]
