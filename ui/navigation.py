"""Which screens exist and which roles see them: the page registry, as data."""

from __future__ import annotations

from dataclasses import dataclass

from db.models import Role

EVERYONE = frozenset(Role)


@dataclass(frozen=True)
class PageSpec:
    path: str
    title: str
    icon: str
    url_path: str
    roles: frozenset[Role]


PAGES: tuple[PageSpec, ...] = (
    PageSpec("screens/overview.py", "Overview", ":material/dashboard:", "overview", EVERYONE),
    PageSpec("screens/weekly_sync.py", "Weekly sync", ":material/groups:", "weekly-sync", EVERYONE),
    PageSpec("screens/funnel.py", "Funnel", ":material/filter_alt:", "funnel", EVERYONE),
    PageSpec(
        "screens/rate_leads.py",
        "Rate my leads",
        ":material/star:",
        "rate",
        frozenset({Role.rep, Role.sales_manager}),
    ),
    PageSpec(
        "screens/quota.py",
        "Quota and win rate",
        ":material/flag:",
        "quota",
        frozenset({Role.rep, Role.sales_manager, Role.executive, Role.marketer}),
    ),
    PageSpec(
        "screens/revenue.py",
        "Revenue alignment",
        ":material/payments:",
        "revenue",
        frozenset({Role.sales_manager, Role.executive, Role.marketer}),
    ),
    PageSpec(
        "screens/rating_health.py",
        "Rating coverage",
        ":material/fact_check:",
        "rating-coverage",
        frozenset({Role.sales_manager, Role.marketer, Role.executive}),
    ),
    PageSpec(
        "screens/criteria.py",
        "Targeting criteria",
        ":material/tune:",
        "criteria",
        frozenset({Role.marketer, Role.sales_manager, Role.executive}),
    ),
    PageSpec(
        "screens/sla_settings.py",
        "SLA settings",
        ":material/handshake:",
        "sla",
        frozenset({Role.sales_manager, Role.admin}),
    ),
    PageSpec("screens/content.py", "Content", ":material/library_books:", "content", EVERYONE),
    PageSpec(
        "screens/content_health.py",
        "Content health",
        ":material/monitoring:",
        "content-health",
        frozenset({Role.marketer, Role.sales_manager, Role.executive, Role.admin}),
    ),
    PageSpec("screens/glossary.py", "Glossary", ":material/menu_book:", "glossary", EVERYONE),
    PageSpec("screens/import_data.py", "Import", ":material/upload_file:", "import", frozenset({Role.admin})),
    PageSpec("screens/admin_users.py", "Users", ":material/group:", "users", frozenset({Role.admin})),
    PageSpec("screens/audit_log.py", "Audit log", ":material/policy:", "audit-log", frozenset({Role.admin})),
    PageSpec("screens/delivery.py", "Delivery", ":material/outbox:", "delivery", frozenset({Role.admin})),
    PageSpec("screens/account.py", "My account", ":material/account_circle:", "account", EVERYONE),
)


# Where each role starts after logging in (and at the bare address): the screen its work begins on.
HOME: dict[Role, str] = {
    Role.rep: "rate",
    Role.marketer: "criteria",
    Role.sales_manager: "weekly-sync",
    Role.executive: "weekly-sync",
    Role.admin: "overview",
}


def pages_for(role: str) -> list[PageSpec]:
    """The pages of `role` (a Role, or its value as CurrentUser.role holds it)."""
    return [page for page in PAGES if Role(role) in page.roles]


def home_for(role: str) -> PageSpec:
    """The role's home screen: one of its own pages, else its first."""
    pages = pages_for(role)
    return next((p for p in pages if p.url_path == HOME[Role(role)]), pages[0])
