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
    PageSpec("screens/overview.py", "Overview", ":material/dashboard:", "overview", EVERYONE),
    PageSpec("screens/weekly_sync.py", "Weekly sync", ":material/groups:", "weekly-sync", EVERYONE),
    PageSpec("screens/funnel.py", "Funnel", ":material/filter_alt:", "funnel", EVERYONE),
    PageSpec(
        "screens/rate_leads.py",
        "Rate my leads",
        ":material/star:",
        "rate",
        frozenset({"rep", "sales_manager"}),
    ),
    PageSpec(
        "screens/quota.py",
        "Quota and win rate",
        ":material/flag:",
        "quota",
        frozenset({"rep", "sales_manager", "executive", "marketer"}),
    ),
    PageSpec(
        "screens/revenue.py",
        "Revenue alignment",
        ":material/payments:",
        "revenue",
        frozenset({"sales_manager", "executive", "marketer"}),
    ),
    PageSpec(
        "screens/rating_health.py",
        "Rating coverage",
        ":material/fact_check:",
        "rating-coverage",
        frozenset({"sales_manager", "marketer", "executive"}),
    ),
    PageSpec(
        "screens/criteria.py",
        "Targeting criteria",
        ":material/tune:",
        "criteria",
        frozenset({"marketer", "sales_manager", "executive"}),
    ),
    PageSpec(
        "screens/sla_settings.py",
        "SLA settings",
        ":material/handshake:",
        "sla",
        frozenset({"sales_manager", "admin"}),
    ),
    PageSpec("screens/glossary.py", "Glossary", ":material/menu_book:", "glossary", EVERYONE),
    PageSpec("screens/import_data.py", "Import", ":material/upload_file:", "import", frozenset({"admin"})),
    PageSpec("screens/admin_users.py", "Users", ":material/group:", "users", frozenset({"admin"})),
    PageSpec("screens/audit_log.py", "Audit log", ":material/policy:", "audit-log", frozenset({"admin"})),
    PageSpec("screens/account.py", "My account", ":material/account_circle:", "account", EVERYONE),
)


# Where each role starts after logging in (and at the bare address): the screen its work begins on.
HOME: dict[str, str] = {
    "rep": "rate",
    "marketer": "criteria",
    "sales_manager": "weekly-sync",
    "executive": "weekly-sync",
    "admin": "overview",
}


def pages_for(role: str) -> list[PageSpec]:
    return [page for page in PAGES if role in page.roles]


def home_for(role: str) -> PageSpec:
    """The role's home screen: one of its own pages, else its first."""
    pages = pages_for(role)
    return next((p for p in pages if p.url_path == HOME.get(role)), pages[0])
