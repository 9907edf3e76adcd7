"""The demo company's sales content (issue 14): marketing's library, the reps' uses of it on their deals,
their *helped?* ratings, and the content they asked for.

Planted patterns (tests/db/test_demo_content.py reads these constants):
- HELPFUL_ASSETS, on HELPFUL_SEGMENT (companies of 201-1000 people): a case study and an ROI one-pager
  that really help there. Reps use them on that segment's won deals far more often than on its lost
  ones (the uses are drawn conditional on the outcome), so core.content.influence finds both with a win
  rate well above the matched comparison; their helped? ratings are high. Every other use is drawn
  without looking at the outcome.
- STALE_ASSET: a one-pager still in wide use whose prices are out of date: rated low, most ratings give
  the reason out_of_date, and its last review is long past (core.content.REVIEW_DAYS).
- A few assets nobody uses (NEVER_USED), one archived after use, one added and one replaced in the last
  complete week (so the weekly sync has something new to show), a handful with a small real PDF file,
  the rest links under CONTENT_LINK. About 8 open requests with votes, one answered with an asset and
  one declined with a reason.

Drawn from a generator of its own (seeded from the demo's seed), after the leads exist, so no column of
the leads, ratings or answers moves; uses are drawn column-wise with numpy over a matrix of deals ×
assets and written in bulk (db/bulk.py) like the rest of the demo.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np
import polars as pl
from sqlalchemy.engine import Connection

from db.bulk import bulk_insert, text_times
from db.progress import ProgressFn, no_progress

HELPFUL_SEGMENT: dict[str, str] = {"company_size": "201-1000"}
HELPFUL_CASE_STUDY = "Case study: Kestrel Works, 600 people, cut forecast error by a third"
HELPFUL_ONE_PAGER = "ROI one-pager for companies of 201-1000 people"
HELPFUL_ASSETS: tuple[str, ...] = (HELPFUL_CASE_STUDY, HELPFUL_ONE_PAGER)
STALE_ASSET = "Pricing one-pager 2025"
NEW_ASSET = "Video: Healthcare customer panel"  # added in the last complete week; answers a request
REPLACED_ASSET = "Huddle overview deck"  # its second version came in the last complete week
ARCHIVED_ASSET = "Pricing sheet 2024"
CONTENT_LINK = "https://content.example.com/"

# The planted effect: on HELPFUL_SEGMENT's closed deals, the chance a helpful asset was used on a won deal
# and on a lost one (an open deal: in between).
USE_IF_WON, USE_IF_LOST, USE_IF_OPEN = 0.75, 0.2, 0.45
USES_PER_DEAL = 1.3  # Poisson mean of the other assets used on a deal (before availability)
RATED_SHARE = 0.45  # of the uses, the share the rep rated helped?
MAX_DEALS = 8_000  # deals that get content at most: a million-lead demo stays fast to seed
STAR_SPREAD = 0.9
REVIEW_OVERDUE = ("Battle card: ForecastHQ", "Case study: Harbor Freightways forecasts every depot")

ANY: tuple[str, ...] = ()
LATE = ("sql", "opportunity")
DEAL = ("opportunity",)
ENTERPRISE = ("201-1000", "1000+")
SMALL = ("1-10", "11-50")
LEADERS = ("C-level", "VP/Director")


@dataclass(frozen=True)
class Spec:
    """One asset of the catalogue: its audience, how often reps reach for it (a weight; 0: never), the
    mean stars it earns, whether its content is a small PDF, how many versions it has had, and a fixed age
    in days where the story needs one (else drawn)."""

    title: str
    kind: str
    description: str
    stages: tuple[str, ...] = ANY
    personas: tuple[str, ...] = ANY
    industries: tuple[str, ...] = ANY
    sizes: tuple[str, ...] = ANY
    popularity: float = 1.0
    stars: float = 3.6
    pdf: bool = False
    versions: int = 1
    age_days: int | None = None


CATALOGUE: tuple[Spec, ...] = (
    # case studies
    Spec("Case study: Brightline Systems sized its pipeline in a week", "case_study",
         "A 120-person software company moves its pipeline reviews to one shared view.",
         LATE, ANY, ("Software",), ("51-200", "201-1000"), 1.5, 3.9),
    Spec(HELPFUL_CASE_STUDY, "case_study",
         "How a mid-size firm's sales and marketing agreed one forecast, with the numbers before and after.",
         DEAL, ANY, ANY, ("201-1000",), 1.0, 4.4, age_days=385),
    Spec("Case study: Meridian Health's reps stopped chasing cold leads", "case_study",
         "A hospital group's inside sales team and the lead rating that changed their week.",
         LATE, ANY, ("Healthcare",), ANY, 1.2, 3.8),
    Spec("Case study: Harbor Freightways forecasts every depot", "case_study",
         "Logistics: one forecast per depot, rolled up weekly.", LATE, ANY, ("Logistics",), ANY, 1.0, 3.5),
    Spec("Case study: Corner Shop Co., eight people and a real pipeline", "case_study",
         "A small retailer's owner on why a funnel matters at eight people.",
         LATE, ANY, ("Retail",), SMALL, 1.4, 3.0),
    Spec("Case study: Northgate Bank's quarterly close", "case_study",
         "Financial services: the quarter-end close without the spreadsheet marathon.",
         LATE, LEADERS, ("Financial Services",), ("1000+",), 0.8, 3.7),
    Spec("Case study: Alder Manufacturing's plant-level pipeline", "case_study",
         "Manufacturing: every plant's pipeline in the Monday meeting.",
         LATE, ANY, ("Manufacturing",), ANY, 1.0, 4.0),
    Spec("Case study: Campus Connect (Education)", "case_study",
         "A university's enrolment team runs its funnel in Huddle.", LATE, ANY, ("Education",), ANY, 0.0),
    # decks
    Spec(REPLACED_ASSET, "deck", "The company pitch: problem, product, proof, pricing.",
         ANY, ANY, ANY, ANY, 3.0, 3.6, versions=2, age_days=395),
    Spec("Executive briefing deck", "deck", "Twelve slides for a C-level or VP meeting.",
         LATE, LEADERS, ANY, ANY, 1.6, 3.9),
    Spec("Technical deep-dive deck", "deck", "Integrations, data model, security, for the evaluators.",
         LATE, ("Manager", "Individual contributor"), ANY, ANY, 1.2, 3.4),
    Spec("Enterprise security and compliance deck", "deck", "SSO, audit log, data residency, backups.",
         LATE, ANY, ANY, ENTERPRISE, 1.0, 3.8, pdf=True),
    Spec("Partner programme deck", "deck", "For resellers and consultancies.", ANY, ANY, ANY, ANY, 0.0),
    Spec("Forecasting webinar deck", "deck", "The slides of Webinar: Forecasting 101.",
         ("lead", "mql"), ANY, ANY, ANY, 1.0, 3.5),
    # one-pagers
    Spec(HELPFUL_ONE_PAGER, "one_pager",
         "Payback in months for a 201-1000 person company, with the assumptions spelled out.",
         LATE, ANY, ANY, ("201-1000",), 1.0, 4.3, pdf=True, age_days=370),
    Spec(STALE_ASSET, "one_pager", "List prices and the discount bands (2025).",
         ANY, ANY, ANY, ANY, 2.2, 1.8, pdf=True, age_days=398),
    Spec("Product one-pager", "one_pager", "What Huddle does, on one page.",
         ANY, ANY, ANY, ANY, 2.0, 3.5, pdf=True, versions=2),
    Spec("Retail quick-start one-pager", "one_pager", "Up and running in a day for a small shop.",
         ANY, ANY, ("Retail",), SMALL, 1.3, 2.9),
    Spec("Integrations one-pager", "one_pager", "Every CRM and marketing tool Huddle reads from.",
         LATE, ANY, ANY, ANY, 1.0, 3.7),
    Spec("Healthcare data-privacy one-pager", "one_pager", "How patient-adjacent data is kept out.",
         LATE, ANY, ("Healthcare",), ANY, 0.8, 3.9),
    # email templates
    Spec("Email: first follow-up after a demo", "email_template", "Send within a day of the demo.",
         LATE, ANY, ANY, ANY, 2.0, 3.6),
    Spec("Email: breakup email for a stalled deal", "email_template", "When a deal has gone quiet.",
         DEAL, ANY, ANY, ANY, 1.0, 3.2, versions=2),
    Spec("Email: intro for a new MQL", "email_template", "The first touch on a fresh MQL.",
         ("mql",), ANY, ANY, ANY, 1.0, 3.5),
    Spec("Email: meeting recap with next steps", "email_template", "Recap, owners and dates.",
         ANY, ANY, ANY, ANY, 1.5, 3.8),
    Spec("Email: renewal reminder", "email_template", "Ninety days before a renewal.",
         DEAL, ANY, ANY, ANY, 0.3, 3.4),
    Spec("Email: referral ask", "email_template", "Ask a happy customer for an introduction.",
         ANY, ANY, ANY, ANY, 0.0),
    # battle cards
    Spec("Battle card: Pipewise", "battle_card", "Where we win, where they do, and the traps.",
         LATE, ANY, ANY, ANY, 1.6, 3.9, versions=2),
    Spec("Battle card: ForecastHQ", "battle_card", "Their forecasting module against our weekly sync.",
         LATE, ANY, ANY, ANY, 1.2, 3.3),
    Spec("Battle card: spreadsheets (the status quo)", "battle_card", "When the competitor is Excel.",
         LATE, ANY, ANY, ANY, 1.4, 3.7),
    Spec("Battle card: CRM built-in forecasting", "battle_card", "When they say their CRM does it.",
         LATE, ANY, ANY, ANY, 1.0, 3.5),
    Spec("Objection handling: too expensive", "battle_card", "Price objections, answered with ROI.",
         DEAL, ANY, ANY, ANY, 1.2, 3.6),
    # videos
    Spec("Video: two-minute product tour", "video", "The product in two minutes, no sound needed.",
         ANY, ANY, ANY, ANY, 1.8, 3.7),
    Spec("Video: setting up the weekly sync", "video", "A manager sets up the Monday meeting.",
         LATE, ("VP/Director", "Manager"), ANY, ANY, 0.8, 3.6),
    Spec("Video: CFO on forecast accuracy", "video", "A customer's CFO, four minutes.",
         LATE, ("C-level",), ANY, ANY, 0.6, 4.0),
    Spec("Video: the Student edition", "video", "For classrooms.", ANY, ("Student",), ANY, ANY, 0.0),
    Spec(NEW_ASSET, "video", "Three Healthcare customers on their first quarter with Huddle.",
         LATE, ANY, ("Healthcare",), ANY, 1.0, 3.9),
    # other
    Spec("Mutual action plan template", "other", "Both sides' steps to a signed deal, with dates.",
         DEAL, ANY, ANY, ENTERPRISE, 1.2, 4.0, pdf=True),
    Spec("Implementation timeline (sample)", "other", "A typical six-week rollout.",
         DEAL, ANY, ANY, ANY, 0.9, 3.6),
    Spec("Security questionnaire answers (2026)", "other", "Standard answers for a vendor review.",
         DEAL, ANY, ANY, ENTERPRISE, 0.9, 3.8),
    Spec("Proposal template", "other", "Scope, price, terms.", DEAL, ANY, ANY, ANY, 1.1, 3.5),
    Spec(ARCHIVED_ASSET, "other", "Last year's list prices (replaced by the 2025 one-pager).",
         ANY, ANY, ANY, ANY, 1.5, 2.5, age_days=399),
)  # fmt: skip
NEVER_USED: tuple[str, ...] = tuple(spec.title for spec in CATALOGUE if spec.popularity == 0)
ARCHIVED_DAYS_AGO = 60

GOOD_REASONS = ("won_trust", "answered_objection")
BAD_REASONS = ("wrong_persona", "too_long", "missing_data")
RATING_NOTES = (
    "They forwarded it to their CFO",
    "Prices in it no longer match the price list",
    "Too long for a first call",
    "Exactly the proof they asked for",
)


@dataclass(frozen=True)
class Ask:
    """One request of the demo: who asked, how many days ago, how many others back it, its status."""

    what: str
    detail: str | None
    kind: str | None
    persona: str | None
    stage: str | None
    industry: str | None
    requester: str
    days_ago: int
    votes: int
    status: str = "open"
    answer: str | None = None  # done: the asset's title; declined: the reason


REQUESTS: tuple[Ask, ...] = (
    Ask("Case study from a Manufacturing company of 1000+ people", "Plant managers ask for a peer.",
        "case_study", None, "opportunity", "Manufacturing", "noah.kim", 41, 7),
    Ask("Battle card against Pipewise's new free tier", "They undercut us on small deals since May.",
        "battle_card", None, "sql", None, "rep", 12, 5, "accepted"),
    Ask("ROI calculator we can fill in on the call", None, "other", "C-level", "opportunity", None,
        "lucas.meyer", 27, 4, "in_progress"),
    Ask("Retail one-pager without the enterprise jargon", "Shop owners tune out at 'pipeline'.",
        "one_pager", "C-level", "sql", "Retail", "mia.chen", 19, 3),
    Ask("Email template for a deal that went dark after procurement", None, "email_template", None,
        "opportunity", None, "priya.nair", 9, 3),
    Ask("Financial Services security answers", "Banks send a 200-question review.", "other", None,
        "opportunity", "Financial Services", "ava.rossi", 33, 2),
    Ask("Short video for Individual contributors", None, "video", "Individual contributor", "sql", None,
        "sam.okafor", 6, 1),
    Ask("Logistics case study with depot numbers", None, "case_study", None, "opportunity", "Logistics",
        "tom.baker", 3, 0),
    Ask("A video from a Healthcare customer", "Clinics want to hear it from a peer.", "video", None,
        "opportunity", "Healthcare", "ines.garcia", 52, 4, "done", NEW_ASSET),
    Ask("The overview deck in German", "Two prospects in Germany this month.", "deck", None, None, None,
        "ethan.cole", 45, 2, "declined",
        "Not this quarter: too few German deals to keep a translation current; the English deck it is."),
)  # fmt: skip


@dataclass
class ContentTables:
    """The demo's content rows, each frame with its table's columns (times as naive UTC datetimes)."""

    assets: pl.DataFrame
    versions: pl.DataFrame
    uses: pl.DataFrame
    ratings: pl.DataFrame
    requests: pl.DataFrame
    votes: pl.DataFrame

    def counts(self) -> dict[str, int]:
        return {
            "content assets": self.assets.height,
            "content uses": self.uses.height,
            "content ratings": self.ratings.height,
            "content requests": self.requests.height,
        }


# ---------------------------------------------------------------- a small real file


def tiny_pdf(title: str) -> bytes:
    """A valid one-page PDF that says `title` (ASCII; other characters become "?"), with a correct
    cross-reference table, so a download opens in any viewer."""
    safe = (
        title.encode("ascii", "replace").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    )
    text = b"BT /F1 18 Tf 72 720 Td (" + safe + b") Tj 0 -28 Td /F1 11 Tf (Huddle demo content) Tj ET"
    objects = (
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(text)).encode() + b" >>\nstream\n" + text + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    )
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    start = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{start}\n%%EOF\n".encode()
    return bytes(out)


def slug(title: str) -> str:
    words = "".join(c.lower() if c.isalnum() else " " for c in title).split()
    return "-".join(words)


# ---------------------------------------------------------------- the library


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute))


def last_complete_monday(today: date) -> date:
    """The Monday of the last Monday-to-Sunday week that ended before `today` (core.weekly's)."""
    return today - timedelta(days=today.weekday() + 7)


def make_assets(
    rng: np.random.Generator, today: date, marketers: Sequence[int], history_days: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The catalogue as content_assets and content_versions rows (ids from 1 in catalogue order)."""
    monday = last_complete_monday(today)
    n = len(CATALOGUE)
    drawn_age = rng.integers(25, history_days - 15, n)
    owners = np.asarray(marketers)[rng.integers(0, len(marketers), n)]
    minutes = rng.integers(0, 8 * 60, n)
    reviewed_ago = rng.integers(5, 150, n)
    never_reviewed = rng.random(n) < 0.25
    replaced_after = rng.uniform(0.3, 0.9, n)
    assets, versions = [], []
    for index, spec in enumerate(CATALOGUE):
        asset_id = index + 1
        created_day = today - timedelta(days=int(spec.age_days or drawn_age[index]))
        if spec.title == NEW_ASSET:
            created_day = monday + timedelta(days=2)
        created = _at(created_day, 8) + timedelta(minutes=int(minutes[index]))
        times = [created]
        if spec.versions > 1:
            later = created + (_at(today, 8) - created) * float(replaced_after[index])
            if spec.title == REPLACED_ASSET:
                later = _at(monday + timedelta(days=1), 15, 30)
            times.append(later)
        reviewed: date | None = today - timedelta(days=int(reviewed_ago[index]))
        if spec.title == STALE_ASSET:
            reviewed = created_day + timedelta(days=20)
        elif spec.title in REVIEW_OVERDUE:
            reviewed = today - timedelta(days=200 + 17 * REVIEW_OVERDUE.index(spec.title))
        elif never_reviewed[index] and (today - created_day).days < 150:
            reviewed = None  # a young asset nobody reviewed yet
        if reviewed is not None:
            reviewed = max(reviewed, times[-1].date())
            if spec.title == STALE_ASSET or spec.title in REVIEW_OVERDUE:
                reviewed = min(reviewed, today - timedelta(days=190))
        archived = (
            _at(today - timedelta(days=ARCHIVED_DAYS_AGO), 11) if spec.title == ARCHIVED_ASSET else None
        )
        owner = int(owners[index])
        assets.append(
            {
                "id": asset_id,
                "title": spec.title,
                "kind": spec.kind,
                "description": spec.description,
                "stages": json.dumps(list(spec.stages)),
                "personas": json.dumps(list(spec.personas)),
                "industries": json.dumps(list(spec.industries)),
                "company_sizes": json.dumps(list(spec.sizes)),
                "owner_id": owner,
                "last_reviewed_on": reviewed,
                "current_version": len(times),
                "archived_at": archived,
                "created_by_id": owner,
                "created_at": created,
                "updated_at": max(times[-1], archived or times[-1]),
            }
        )
        for number, at in enumerate(times, start=1):
            data = tiny_pdf(f"{spec.title} (v{number})") if spec.pdf else None
            versions.append(
                {
                    "asset_id": asset_id,
                    "version": number,
                    "link": None
                    if data
                    else f"{CONTENT_LINK}{slug(spec.title)}" + (f"?v={number}" if number > 1 else ""),
                    "filename": f"{slug(spec.title)}.pdf" if data else None,
                    "media_type": "application/pdf" if data else None,
                    "size_bytes": len(data) if data else None,
                    "sha256": hashlib.sha256(data).hexdigest() if data else None,
                    "data": data,
                    "storage_key": None,
                    "created_by_id": owner,
                    "created_at": at,
                }
            )
    asset_schema: dict[str, pl.DataType] = {
        "id": pl.Int64(),
        "title": pl.String(),
        "kind": pl.String(),
        "description": pl.String(),
        "stages": pl.String(),
        "personas": pl.String(),
        "industries": pl.String(),
        "company_sizes": pl.String(),
        "owner_id": pl.Int64(),
        "last_reviewed_on": pl.Date(),
        "current_version": pl.Int64(),
        "archived_at": pl.Datetime("us"),
        "created_by_id": pl.Int64(),
        "created_at": pl.Datetime("us"),
        "updated_at": pl.Datetime("us"),
    }
    version_schema: dict[str, pl.DataType] = {
        "asset_id": pl.Int64(),
        "version": pl.Int64(),
        "link": pl.String(),
        "filename": pl.String(),
        "media_type": pl.String(),
        "size_bytes": pl.Int64(),
        "sha256": pl.String(),
        "data": pl.Binary(),
        "storage_key": pl.String(),
        "created_by_id": pl.Int64(),
        "created_at": pl.Datetime("us"),
    }
    version_frame = pl.DataFrame(versions, schema=version_schema).with_columns(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("id")
    )
    return pl.DataFrame(assets, schema=asset_schema), version_frame


# ---------------------------------------------------------------- uses and ratings


def _matches(values: pl.Series, audiences: Sequence[tuple[str, ...]]) -> np.ndarray:
    """deals × assets: whether each asset's audience list holds the deal's value (an empty list: any)."""
    column = values.fill_null("").to_numpy().astype(str)
    out = np.ones((len(column), len(audiences)), dtype=bool)
    for j, audience in enumerate(audiences):
        if audience:
            out[:, j] = np.isin(column, np.asarray(audience))
    return out


def _micros(frame: pl.DataFrame, column: str) -> np.ndarray:
    """A datetime column as int64 microseconds, -1 where null."""
    return frame.get_column(column).dt.epoch("us").fill_null(-1).to_numpy()


def _epoch_us(moment: datetime) -> int:
    return int((moment - datetime(1970, 1, 1)).total_seconds() * 1_000_000)


def deals_of(leads: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """The demo's opportunities with an owner (at most MAX_DEALS, drawn at random), in lead id order."""
    deals = leads.filter(pl.col("opportunity_at").is_not_null() & pl.col("owner_id").is_not_null()).select(
        "id", "opportunity_at", "closed_at", "outcome", "owner_id", "industry", "company_size", "persona"
    )
    if deals.height > MAX_DEALS:
        keep = np.sort(rng.choice(deals.height, MAX_DEALS, replace=False))
        deals = deals.select(pl.all().gather(keep))
    return deals


def make_uses(
    rng: np.random.Generator, deals: pl.DataFrame, assets: pl.DataFrame, now: datetime
) -> pl.DataFrame:
    """Which assets each deal's owner used on it, and when (between the opportunity and its close or now,
    while the asset existed and was not archived): most are drawn by popularity among the assets whose
    audience fits the deal, regardless of outcome; the helpful assets on HELPFUL_SEGMENT's deals by the
    deal's outcome."""
    n, m = deals.height, len(CATALOGUE)
    fits = (
        _matches(deals.get_column("industry"), [s.industries for s in CATALOGUE])
        & _matches(deals.get_column("company_size"), [s.sizes for s in CATALOGUE])
        & _matches(deals.get_column("persona"), [s.personas for s in CATALOGUE])
        & np.asarray([not s.stages or "opportunity" in s.stages for s in CATALOGUE])[None, :]
    )
    now_us = _epoch_us(now)
    opened, closed = _micros(deals, "opportunity_at"), _micros(deals, "closed_at")
    deal_end = np.where(closed >= 0, closed, now_us)
    created = _micros(assets, "created_at")
    archived = _micros(assets, "archived_at")
    asset_end = np.where(archived >= 0, archived, now_us)
    lo = np.maximum(opened[:, None], created[None, :])
    hi = np.minimum(deal_end[:, None], asset_end[None, :])
    available = fits & (lo < hi)

    popularity = np.asarray([s.popularity for s in CATALOGUE])
    weight = np.where(available, popularity[None, :], 0.0)
    # k assets per deal by weight, without replacement: the k largest of log(weight) + Gumbel noise.
    keys = np.where(weight > 0, np.log(np.where(weight > 0, weight, 1.0)), -np.inf) + rng.gumbel(size=(n, m))
    wanted = np.minimum(rng.poisson(USES_PER_DEAL, n), (weight > 0).sum(axis=1))
    order = np.argsort(-keys, axis=1)
    ranks = np.empty_like(order)
    ranks[np.arange(n)[:, None], order] = np.arange(m)[None, :]
    chosen = ranks < wanted[:, None]

    helpful = np.asarray([s.title in HELPFUL_ASSETS for s in CATALOGUE])
    in_segment = np.ones(n, dtype=bool)
    for column, value in HELPFUL_SEGMENT.items():
        in_segment &= (deals.get_column(column) == value).fill_null(False).to_numpy()
    outcome = deals.get_column("outcome").fill_null("").to_numpy().astype(str)
    chance = np.where(outcome == "won", USE_IF_WON, np.where(outcome == "lost", USE_IF_LOST, USE_IF_OPEN))
    planted = rng.random((n, m)) < chance[:, None]
    chosen = np.where(helpful[None, :] & in_segment[:, None], planted & available, chosen & ~helpful[None, :])

    rows, cols = np.nonzero(chosen)
    share = rng.uniform(0.05, 0.9, len(rows))
    span = hi[rows, cols] - lo[rows, cols]
    used_us = lo[rows, cols] + (share * span).astype(np.int64)
    return pl.DataFrame(
        {
            "asset_id": (cols + 1).astype(np.int64),
            "lead_id": deals.get_column("id").to_numpy()[rows],
            "user_id": deals.get_column("owner_id").to_numpy()[rows],
            "used_at": used_us.astype("datetime64[us]"),
            "won": outcome[rows] == "won",
        }
    ).with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("id"))


def make_ratings(rng: np.random.Generator, uses: pl.DataFrame, now: datetime) -> pl.DataFrame:
    """A helped? rating on RATED_SHARE of the uses, a day or so after: stars around each asset's own mean
    (a little higher on deals that were won), reasons that fit the stars; the stale asset's say out of
    date."""
    n = uses.height
    rated = rng.random(n) < RATED_SHARE
    asset_index = uses.get_column("asset_id").to_numpy() - 1
    mean = np.asarray([s.stars for s in CATALOGUE])[asset_index]
    won = uses.get_column("won").to_numpy()
    stars = np.clip(np.rint(mean + 0.4 * won + rng.normal(0.0, STAR_SPREAD, n)), 1, 5).astype(np.int64)
    stale = np.asarray([s.title == STALE_ASSET for s in CATALOGUE])[asset_index]
    stars = np.where(stale, np.minimum(stars, 3), stars)
    good = np.asarray(GOOD_REASONS, dtype=object)[rng.integers(0, len(GOOD_REASONS), n)]
    bad = np.asarray(BAD_REASONS, dtype=object)[rng.integers(0, len(BAD_REASONS), n)]
    no_reason = rng.random(n) < 0.3
    reason = np.where(stars >= 4, good, bad)
    reason = np.where(stale & (rng.random(n) < 0.85), "out_of_date", reason)
    reasons = np.where(no_reason & ~stale, "[]", np.char.add(np.char.add('["', reason.astype(str)), '"]'))
    note_pick = rng.integers(0, len(RATING_NOTES), n)
    notes = np.where(stale, 1, note_pick)
    with_note = rng.random(n) < 0.08
    lag_us = (rng.lognormal(np.log(20.0), 0.8, n) * 3600e6).astype(np.int64)
    used = uses.get_column("used_at").dt.epoch("us").to_numpy()
    rated_us = np.minimum(used + lag_us, _epoch_us(now))
    frame = pl.DataFrame(
        {
            "asset_id": uses.get_column("asset_id"),
            "lead_id": uses.get_column("lead_id"),
            "rater_id": uses.get_column("user_id"),
            "stars": stars,
            "reasons": reasons.astype(str),
            "note": pl.Series(
                [
                    RATING_NOTES[k] if w else None
                    for k, w in zip(notes.tolist(), with_note.tolist(), strict=True)
                ],
                dtype=pl.String,
            ),
            "created_at": rated_us.astype("datetime64[us]"),
        }
    ).filter(pl.Series(rated))
    return frame.with_columns(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("id"), pl.col("created_at").alias("updated_at")
    )


# ---------------------------------------------------------------- requests


def make_requests(
    rng: np.random.Generator, today: date, users: dict[str, int], assets: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The requests of REQUESTS with their votes (distinct reps and managers other than the requester)."""
    backers = [name for name in users if name not in ("marketer", "lena.fischer", "exec", "admin")]
    asset_ids = dict(zip(assets.get_column("title"), assets.get_column("id"), strict=True))
    new_at = assets.filter(pl.col("title") == NEW_ASSET).get_column("created_at").item()
    rows, votes = [], []
    for index, ask in enumerate(REQUESTS):
        request_id = index + 1
        created = _at(today - timedelta(days=ask.days_ago), 10) + timedelta(minutes=int(rng.integers(0, 420)))
        answered = None
        if ask.status == "done":
            answered = new_at + timedelta(hours=2)
        elif ask.status == "declined":
            answered = created + timedelta(days=3)
        elif ask.status != "open":
            answered = None  # accepted or in progress: still open to the reps, marketing is on it
        others = [name for name in backers if name != ask.requester]
        picked = rng.choice(len(others), size=ask.votes, replace=False)
        for k, pick in enumerate(sorted(picked.tolist())):
            voted = created + timedelta(hours=int(rng.integers(1, max(2, 24 * min(ask.days_ago, 10)))))
            votes.append((request_id, users[others[pick]], min(voted, _at(today, 8, k))))
        rows.append(
            {
                "id": request_id,
                "what": ask.what,
                "detail": ask.detail,
                "kind": ask.kind,
                "persona": ask.persona,
                "stage": ask.stage,
                "industry": ask.industry,
                "lead_id": None,
                "requested_by_id": users[ask.requester],
                "status": ask.status,
                "answer_reason": ask.answer if ask.status == "declined" else None,
                "answer_asset_id": asset_ids[ask.answer] if ask.status == "done" and ask.answer else None,
                "answered_by_id": users["lena.fischer"] if answered else None,
                "answered_at": answered,
                "created_at": created,
                "updated_at": answered or created,
            }
        )
    request_schema: dict[str, pl.DataType] = {
        "id": pl.Int64(),
        "what": pl.String(),
        "detail": pl.String(),
        "kind": pl.String(),
        "persona": pl.String(),
        "stage": pl.String(),
        "industry": pl.String(),
        "lead_id": pl.Int64(),
        "requested_by_id": pl.Int64(),
        "status": pl.String(),
        "answer_reason": pl.String(),
        "answer_asset_id": pl.Int64(),
        "answered_by_id": pl.Int64(),
        "answered_at": pl.Datetime("us"),
        "created_at": pl.Datetime("us"),
        "updated_at": pl.Datetime("us"),
    }
    vote_frame = pl.DataFrame(
        votes,
        schema={"request_id": pl.Int64, "user_id": pl.Int64, "created_at": pl.Datetime("us")},
        orient="row",
    ).with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("id"))
    return pl.DataFrame(rows, schema=request_schema), vote_frame


# ---------------------------------------------------------------- the entry points


def make_content(
    leads: pl.DataFrame, users: dict[str, int], today: date, seed: int, history_days: int
) -> ContentTables:
    """The demo's content for these leads (db.demo.make_leads' frame) and people (username -> id); same
    seed and day, same content."""
    rng = np.random.Generator(np.random.PCG64(seed + 1414))
    now = _at(today, 9)  # the demo's "now", as db.demo.make_leads
    assets, versions = make_assets(rng, today, [users["marketer"], users["lena.fischer"]], history_days)
    uses = make_uses(rng, deals_of(leads, rng), assets, now)
    ratings = make_ratings(rng, uses, now)
    requests, votes = make_requests(rng, today, users, assets)
    return ContentTables(
        assets=assets,
        versions=versions,
        uses=uses.drop("won"),
        ratings=ratings,
        requests=requests,
        votes=votes,
    )


TABLES = (
    "content_assets",
    "content_versions",
    "content_uses",
    "content_ratings",
    "content_rating_history",
    "content_requests",
    "content_request_votes",
)


def _bytes_column(frame: pl.DataFrame, postgres: bool) -> pl.DataFrame:
    """On PostgreSQL a bytea goes through COPY's CSV as hex text (\\x...); SQLite takes the bytes."""
    if not postgres:
        return frame
    return frame.with_columns(
        pl.when(pl.col("data").is_not_null())
        .then(pl.lit("\\x") + pl.col("data").bin.encode("hex"))
        .alias("data")
    )


def write_content(
    connection: Connection, content: ContentTables, postgres: bool, progress: ProgressFn = no_progress
) -> None:
    assets = text_times(content.assets, ("archived_at", "created_at", "updated_at"), postgres).with_columns(
        pl.col("last_reviewed_on").dt.strftime("%Y-%m-%d")
    )
    bulk_insert(connection, "content_assets", assets, progress, "writing content")
    versions = text_times(_bytes_column(content.versions, postgres), ("created_at",), postgres)
    bulk_insert(connection, "content_versions", versions, progress, "writing content")
    bulk_insert(
        connection,
        "content_uses",
        text_times(content.uses, ("used_at",), postgres),
        progress,
        "writing content uses",
    )
    ratings = text_times(content.ratings, ("created_at", "updated_at"), postgres)
    bulk_insert(
        connection,
        "content_ratings",
        ratings.select(
            "id", "asset_id", "lead_id", "rater_id", "stars", "reasons", "note", "created_at", "updated_at"
        ),
        progress,
        "writing content ratings",
    )
    history = ratings.select(
        "id",
        pl.col("id").alias("rating_id"),
        "stars",
        "reasons",
        "note",
        pl.col("rater_id").alias("changed_by_id"),
        pl.col("created_at").alias("changed_at"),
    )
    bulk_insert(connection, "content_rating_history", history, progress, "writing content ratings")
    requests = text_times(content.requests, ("answered_at", "created_at", "updated_at"), postgres)
    bulk_insert(connection, "content_requests", requests, progress, "writing content requests")
    votes = text_times(content.votes, ("created_at",), postgres)
    bulk_insert(connection, "content_request_votes", votes, progress, "writing content requests")
