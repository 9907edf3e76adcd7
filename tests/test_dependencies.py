"""Every library the app imports is pinned in requirements.txt (none arrives by chance with another), and
logging in loads only what logging in needs."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

from tests.test_architecture import imported_top_levels

ROOT = Path(__file__).resolve().parent.parent
APP_CODE = [
    ROOT / "app.py",
    *(p for layer in ("core", "db", "ui", "screens") for p in (ROOT / layer).rglob("*.py")),
]
OURS = {"app", "core", "db", "ui", "screens", "tests"}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned(requirements: Path) -> dict[str, str]:
    """name -> version of every `name==version` line (extras dropped), following `-r` includes."""
    found: dict[str, str] = {}
    for line in requirements.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            found |= pinned(requirements.parent / line[3:].strip())
        elif line:
            name, _, version = line.partition("==")
            assert version, f"{requirements.name}: {line!r} is not pinned with =="
            found[_canonical(name.split("[")[0])] = version.strip()
    return found


def third_party_imports() -> dict[str, list[str]]:
    """Top-level module -> the files importing it, for every module neither ours nor the standard library's."""
    users: dict[str, list[str]] = {}
    for path in APP_CODE:
        for name in imported_top_levels(path.read_text()) - OURS - set(sys.stdlib_module_names):
            users.setdefault(name, []).append(str(path.relative_to(ROOT)))
    return users


def test_every_library_the_app_imports_is_pinned_in_requirements_txt() -> None:
    runtime = pinned(ROOT / "requirements.txt")
    distributions = packages_distributions()
    missing = {}
    for module, files in sorted(third_party_imports().items()):
        names = {_canonical(d) for d in distributions.get(module, [module])}
        if not names & runtime.keys():
            missing[module] = sorted(files)[:3]
    assert missing == {}, f"imported but not pinned in requirements.txt: {missing}"


def test_the_two_requirement_files_agree() -> None:
    """requirements-dev.txt adds tools on top of requirements.txt and pins nothing of it again."""
    runtime = pinned(ROOT / "requirements.txt")
    dev_only = {}
    for line in (ROOT / "requirements-dev.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-r "):
            dev_only[_canonical(line.split("==")[0].split("[")[0])] = line
    assert (ROOT / "requirements-dev.txt").read_text().count("-r requirements.txt") == 1
    assert dev_only.keys().isdisjoint(runtime), sorted(dev_only.keys() & runtime.keys())


def test_the_checker_sees_numpy_and_pandas() -> None:
    """The two that used to come in by chance: found as imports, mapped to their distributions."""
    imports = third_party_imports()
    assert "db/demo.py" in imports["numpy"] and "ui/widgets.py" in imports["pandas"]
    assert {"numpy", "pandas"} <= pinned(ROOT / "requirements.txt").keys()


def test_logging_in_does_not_load_the_demo_generator() -> None:
    """ui/auth.py shows the demo password; importing it must not import db/demo.py (751 lines and numpy)."""
    code = "import sys, ui.auth; print('db.demo' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "False", done.stdout + done.stderr
