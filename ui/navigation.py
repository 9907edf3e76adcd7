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
        "pages/rate_leads.py",
        "Rate my leads",
        ":material/star:",
        "rate",
        frozenset({"rep", "sales_manager"}),
    ),
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
    PageSpec(
        "pages/rating_health.py",
        "Rating coverage",
        ":material/fact_check:",
        "rating-coverage",
        frozenset({"sales_manager", "marketer", "executive"}),
    ),
    PageSpec(
        "pages/criteria.py",
        "Targeting criteria",
        ":material/tune:",
        "criteria",
        frozenset({"marketer", "sales_manager", "executive"}),
    ),
    PageSpec("pages/import_data.py", "Import", ":material/upload_file:", "import", frozenset({"admin"})),
    PageSpec("pages/admin_users.py", "Users", ":material/group:", "users", frozenset({"admin"})),
    PageSpec("pages/audit_log.py", "Audit log", ":material/policy:", "audit-log", frozenset({"admin"})),
    PageSpec("pages/account.py", "My account", ":material/account_circle:", "account", EVERYONE),
)


def pages_for(role: str) -> list[PageSpec]:
    return [page for page in PAGES if role in page.roles]
