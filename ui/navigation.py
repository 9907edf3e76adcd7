"""Which screens exist and which roles see them: the page registry, as data."""

from __future__ import annotations

from dataclasses import dataclass

from db.models import Role

EVERYONE = frozenset(role.value for role in Role)


@dataclass(frozen=True)
class PageSpec:
    path: str
    title: str
    icon: str
    url_path: str
    roles: frozenset[str]


PAGES: tuple[PageSpec, ...] = (
    PageSpec("pages/overview.py", "Overview", ":material/dashboard:", "overview", EVERYONE),
    PageSpec("pages/funnel.py", "Funnel", ":material/filter_alt:", "funnel", EVERYONE),
    PageSpec(
        "pages/quota.py",
        "Quota and win rate",
        ":material/flag:",
        "quota",
        frozenset({"rep", "sales_manager", "executive", "marketer"}),
    ),
    PageSpec(
        "pages/revenue.py",
        "Revenue alignment",
        ":material/payments:",
        "revenue",
        frozenset({"sales_manager", "executive", "marketer"}),
    ),
    PageSpec("pages/import_data.py", "Import", ":material/upload_file:", "import", frozenset({"admin"})),
)


def pages_for(role: str) -> list[PageSpec]:
    return [page for page in PAGES if role in page.roles]
