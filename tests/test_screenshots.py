"""The browser tests keep their screenshots out of the repository; only `make screenshots` refreshes the
README's pictures, and the check that the tests left `git status` alone sees every kind of change."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import (
    readme_folder,
    readme_picture,
    screenshot,
    screenshots_folder,
    tree_changes,
    tree_state,
)

ROOT = Path(__file__).resolve().parent.parent
PICTURE = re.compile(r"\(docs/screenshots/([\w.-]+\.png)\)")


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    _git(tmp_path, "init", "-q")
    (tmp_path / ".gitignore").write_text("ignored/\n")
    (tmp_path / "kept.png").write_bytes(b"one")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "start")
    return tmp_path


def test_the_tree_check_sees_new_changed_and_rewritten_files_but_not_ignored_ones(repository: Path) -> None:
    clean = tree_state(repository)
    assert clean == {}
    (repository / "ignored").mkdir()
    (repository / "ignored" / "shot.png").write_bytes(b"x")
    assert tree_state(repository) == clean
    (repository / "kept.png").write_bytes(b"two")
    (repository / "new.txt").write_text("new")
    changed = tree_state(repository)
    assert changed is not None and tree_changes(clean, changed) == ["kept.png", "new.txt"]
    (repository / "kept.png").write_bytes(b"three")  # a file already changed, changed again
    again = tree_state(repository)
    assert again is not None and tree_changes(changed, again) == ["kept.png"]


def test_outside_a_checkout_there_is_nothing_to_compare(tmp_path: Path) -> None:
    assert tree_state(tmp_path / "not-a-repository") is None


def test_the_folder_make_screenshots_fills_is_allowed_to_change() -> None:
    before, after = {}, {"docs/screenshots/login.png": " M abc", "README.md": " M def"}
    assert tree_changes(before, after, ROOT / "docs" / "screenshots") == ["README.md"]


class _Page:
    def screenshot(self, path: str) -> None:
        Path(path).write_bytes(b"png")


def test_screenshots_and_readme_pictures_stay_out_of_docs_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUDDLE_SCREENSHOTS", str(tmp_path / "shots"))
    monkeypatch.delenv("HUDDLE_README_SCREENSHOTS", raising=False)
    shot = screenshot(_Page(), "funnel-last-quarter")
    assert shot == tmp_path / "shots" / "funnel-last-quarter.png" and shot.exists()
    assert readme_picture(shot, "funnel.png") == tmp_path / "shots" / "readme" / "funnel.png"
    monkeypatch.setenv("HUDDLE_README_SCREENSHOTS", str(tmp_path / "docs"))
    assert readme_picture(shot, "funnel.png") == tmp_path / "docs" / "funnel.png"
    assert readme_folder() == tmp_path / "docs" and screenshots_folder() == tmp_path / "shots"


def test_the_default_screenshot_folder_is_ignored_by_git() -> None:
    folder = screenshots_folder().relative_to(ROOT)
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", f"{folder}/readme/overview.png"], cwd=ROOT, check=False
    )
    assert ignored.returncode == 0, f"{folder} is not git-ignored"


def test_make_screenshots_runs_every_test_that_makes_a_readme_picture() -> None:
    makers = {
        str(p.relative_to(ROOT))
        for p in (ROOT / "tests" / "e2e").glob("test_*.py")
        if "readme_picture(" in p.read_text()
    }
    makefile = (ROOT / "Makefile").read_text()
    listed = re.search(r"^README_SHOT_TESTS := (.*?)(?<!\\)$", makefile, re.M | re.S)
    assert listed is not None
    assert set(listed.group(1).replace("\\\n", " ").split()) == makers
    assert "HUDDLE_README_SCREENSHOTS=$(CURDIR)/docs/screenshots" in makefile


def test_every_picture_the_readme_shows_is_made_by_a_browser_test() -> None:
    shown = set(PICTURE.findall((ROOT / "README.md").read_text()))
    made = set()
    for path in (ROOT / "tests" / "e2e").glob("test_*.py"):
        made |= set(re.findall(r"\"([\w-]+\.png)\"", path.read_text()))
    assert shown and shown <= made, sorted(shown - made)
