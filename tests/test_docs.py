"""The repository stands alone: every link in README and docs resolves inside it, no code points at a
document outside it, and docs/METRICS.md lists exactly the registry the app shows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.definitions import DEFINITIONS

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    *sorted((ROOT / "mappings").glob("*.md")),
]
# [text](target) and ![alt](target); a target is cut at whitespace (a title) and at #fragment.
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)[^)]*\)")
SOURCE_FOLDERS = (
    "app.py",
    "core",
    "db",
    "ui",
    "screens",
    "tests",
    "Makefile",
    ".ci",
    "mappings",
    "pyproject.toml",
)
REGISTRY_BLOCK = re.compile(r"<!-- registry:start[^>]*-->\n(.*?)\n<!-- registry:end -->", re.S)


def relative_links(markdown: str) -> list[str]:
    targets = [m.group(1).split("#", 1)[0] for m in LINK.finditer(markdown)]
    return [t for t in targets if t and not re.match(r"^[a-z][a-z0-9+.-]*:", t)]


def outside_or_missing(document: Path, root: Path = ROOT) -> list[str]:
    problems = []
    for target in relative_links(document.read_text(encoding="utf-8")):
        resolved = (document.parent / target).resolve()
        if not resolved.is_relative_to(root):
            problems.append(f"{document.relative_to(root)} links outside the repository: {target}")
        elif not resolved.exists():
            problems.append(f"{document.relative_to(root)} links to a missing file: {target}")
    return problems


def registry_markdown() -> str:
    return "\n".join(f"- **{d.label}** (`{d.key}`): {d.definition}" for d in DEFINITIONS.values())


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_resolves_inside_the_repository(document: Path) -> None:
    assert outside_or_missing(document) == []


def test_the_link_check_catches_a_link_out_of_the_repository(tmp_path: Path) -> None:
    # A repository of its own in tmp_path: the test never writes into this one.
    repo = tmp_path.resolve() / "repo"
    (repo / "docs").mkdir(parents=True)
    (repo / "docs" / "METRICS.md").write_text("# m")
    planted = repo / "docs" / "planted-for-a-test.md"
    outside = "../../" + "shared/METRICS.md"  # split so no scan of this file takes it for a real link
    planted.write_text(f"[m]({outside}) [ok](METRICS.md#stages) [web](https://x.org/a) [g](gone.md)")
    assert outside_or_missing(planted, repo) == [
        f"docs/planted-for-a-test.md links outside the repository: {outside}",
        "docs/planted-for-a-test.md links to a missing file: gone.md",
    ]


def test_no_code_or_comment_points_at_a_document_outside_the_repository() -> None:
    found = []
    for name in SOURCE_FOLDERS:
        top = ROOT / name
        files = [top] if top.is_file() else [p for p in top.rglob("*") if p.is_file() and p.suffix != ".pyc"]
        for path in files:
            if path == Path(__file__).resolve():
                continue
            text = path.read_text(encoding="utf-8", errors="ignore")
            found += [f"{path.relative_to(ROOT)}: {m}" for m in re.findall(r"\.\./shared/\S*\.md", text)]
    assert found == []


def test_metrics_md_lists_exactly_the_registry() -> None:
    page = (ROOT / "docs" / "METRICS.md").read_text(encoding="utf-8")
    block = REGISTRY_BLOCK.search(page)
    assert block is not None, "docs/METRICS.md lost its registry markers"
    assert block.group(1) == registry_markdown(), (
        "docs/METRICS.md and core/definitions.py disagree; the registry block should read:\n"
        + registry_markdown()
    )
