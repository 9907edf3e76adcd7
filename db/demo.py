"""The demo company: a believable B2B funnel with patterns the feedback loop must later find.

Planted patterns (the tests and, later, the tuning read these constants):
- OVER_TARGETED (Retail companies of 1-10 people): the launch criteria give them many points, so they
  are a large share of MQLs, but reps rate them low ("too small", "no budget") and they rarely convert.
- UNDER_TARGETED (Manufacturing, VP/Director persona): the launch criteria give them few points, so few
  become MQLs, yet those that do are rated high and convert well.
- HARSH_RATER: one SMB rep who rates about one star lower than the rest of the team for the same leads.
- Custom attributes (leads.attributes, as a CRM export's extra columns arrive): `job_title`,
  `time_on_website` (seconds), `last_activity` and `sign_up_form` follow the lead's hidden quality (the
  sign-up form most of all: "Demo request" is good far more often than "Newsletter"); each is missing on
  some leads. PROMO_TRAP (`promo_code_used`) is the trap: it follows quality only for leads created
  before the last TRAP_DAYS (200) of the data, most of the tuning's learning window, and is noise after,
  through the newest part of the learning window and the test window (the last 90 days).
- Sales content (db/demo_content.py, its own generator, after the leads): about 40 assets, their uses on
  the deals by their owners and helped? ratings, with HELPFUL_ASSETS that win more deals on
  HELPFUL_SEGMENT and a STALE_ASSET rated out of date; requests with votes.

Everything is generated column-wise with numpy from one seeded generator (same seed and day, same data;
the custom attributes come from a stream of their own, so adding them moved no other column) and written
in one transaction through the driver's bulk path: executemany on SQLite, COPY on PostgreSQL.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl
from sqlalchemy import func
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, SQLModel, select

from core.criteria import Criteria, Rule, score_leads
from core.handoff import ACCEPT, RECYCLE, RECYCLE_REASONS, REJECT, REJECT_REASONS
from db import audit, clock
from db.bulk import bulk_insert, fix_sequences, json_list, text_times
from db.demo_accounts import DEMO_PASSWORD
from db.demo_content import TABLES as CONTENT_TABLES
from db.demo_content import make_content, write_content
from db.engine import WRITE_OPTION
from db.models import (
    ActionItem,
    CriteriaRule,
    CriteriaStatus,
    CriteriaVersion,
    DataSource,
    Lead,
    Role,
    SlaSetting,
    Team,
    User,
)
from db.passwords import hash_password
from db.progress import ProgressFn, no_progress

SOURCE_SYSTEM = "demo"
HISTORY_DAYS = 400

OVER_TARGETED = {"industry": "Retail", "company_size": "1-10"}
UNDER_TARGETED = {"industry": "Manufacturing", "persona": "VP/Director"}
HARSH_RATER = "dan.wright"

CHANNELS = ("organic_search", "paid_search", "social", "email", "referral", "direct", "events")
CHANNEL_SESSIONS = (2600, 1500, 1300, 600, 350, 900, 120)  # daily website sessions at the start
CHANNEL_LEAD_SHARE = (0.24, 0.22, 0.20, 0.12, 0.07, 0.09, 0.06)
CAMPAIGNS: dict[str, tuple[str, ...]] = {
    "paid_search": ("Search: CRM forecasting", "Search: pipeline software", "Search: competitor terms"),
    "social": ("LinkedIn: Revenue leaders", "Social: Small business promo"),
    "email": ("Newsletter", "Nurture: Forecasting guide"),
    "events": ("SaaStr booth", "Manufacturing Summit", "Webinar: Forecasting 101"),
    "referral": ("Partner referrals",),
}
INDUSTRIES = (
    "Software", "Manufacturing", "Retail", "Healthcare", "Financial Services", "Education", "Logistics",
    "Media",
)  # fmt: skip
INDUSTRY_WEIGHTS = (0.20, 0.13, 0.20, 0.10, 0.10, 0.09, 0.09, 0.09)
SIZES = ("1-10", "11-50", "51-200", "201-1000", "1000+")
SIZE_WEIGHTS = (0.28, 0.27, 0.22, 0.14, 0.09)
SIZE_DEAL = (4_000, 9_000, 24_000, 55_000, 120_000)
PERSONAS = ("C-level", "VP/Director", "Manager", "Individual contributor", "Student")
PERSONA_WEIGHTS = (0.10, 0.20, 0.35, 0.30, 0.05)
COUNTRIES = (
    "United States", "United Kingdom", "Germany", "France", "Canada", "Australia", "Netherlands", "Brazil",
)  # fmt: skip
COUNTRY_WEIGHTS = (0.40, 0.13, 0.11, 0.08, 0.09, 0.07, 0.06, 0.06)
LANDING_PAGES = ("/pricing", "/demo", "/guide/forecasting", "/webinar", "/blog/pipeline-reviews", "/")
NEGATIVE_REASONS = (
    "wrong_persona", "too_small", "no_budget", "no_authority", "no_need_or_timing", "bad_contact_data",
    "duplicate",
)  # fmt: skip
RATING_NOTES = (
    "Spoke to them, real project this quarter",
    "Student project, not a buyer",
    "Owner-operated shop, no budget",
    "Already a customer of a competitor",
    "Great call, wants a demo next week",
)

TEAMS = (("Enterprise", "East"), ("Mid-Market", "Central"), ("SMB", "West"))
# (username, name, role, team or None); `rep` and `manager` are the SMB team's, where most leads land.
PEOPLE: tuple[tuple[str, str, Role, str | None], ...] = (
    ("rep", "Riley Parker", Role.rep, "SMB"),
    ("dan.wright", "Dan Wright", Role.rep, "SMB"),
    ("mia.chen", "Mia Chen", Role.rep, "SMB"),
    ("sam.okafor", "Sam Okafor", Role.rep, "SMB"),
    ("lucas.meyer", "Lucas Meyer", Role.rep, "Mid-Market"),
    ("priya.nair", "Priya Nair", Role.rep, "Mid-Market"),
    ("tom.baker", "Tom Baker", Role.rep, "Mid-Market"),
    ("ines.garcia", "Ines Garcia", Role.rep, "Mid-Market"),
    ("noah.kim", "Noah Kim", Role.rep, "Enterprise"),
    ("ava.rossi", "Ava Rossi", Role.rep, "Enterprise"),
    ("ethan.cole", "Ethan Cole", Role.rep, "Enterprise"),
    ("zoe.martin", "Zoe Martin", Role.rep, "Enterprise"),
    ("manager", "Morgan Hayes", Role.sales_manager, "SMB"),
    ("grace.lee", "Grace Lee", Role.sales_manager, "Mid-Market"),
    ("omar.haddad", "Omar Haddad", Role.sales_manager, "Enterprise"),
    ("marketer", "Jordan Blake", Role.marketer, None),
    ("lena.fischer", "Lena Fischer", Role.marketer, None),
    ("exec", "Alex Morgan", Role.executive, None),
    ("admin", "Casey Admin", Role.admin, None),
)
TEAM_BY_SIZE = {
    "1-10": "SMB",
    "11-50": "SMB",
    "51-200": "Mid-Market",
    "201-1000": "Enterprise",
    "1000+": "Enterprise",
}

LAUNCH_RULES = (
    Rule("source", "in", ["paid_search", "social"], 20),
    Rule("industry", "in", ["Retail", "Software"], 25),
    Rule("company_size", "in", ["1-10", "11-50"], 15),
    Rule("persona", "in", ["C-level", "VP/Director"], 15),
    Rule("page_views", "gte", 5, 15),
    Rule("content_downloads", "gte", 1, 15),
    Rule("email_clicks", "gte", 2, 10),
    Rule("industry", "eq", "Education", -20),
    Rule("industry", "eq", "Manufacturing", -15),
    Rule("persona", "eq", "Student", -40),
)
LAUNCH_THRESHOLD = 50

# Custom attributes: each option is (value, weight, tilt); a lead picks one with odds weight * e^(tilt * its
# hidden quality), so a positive tilt is a value good leads more often have.
Options = tuple[tuple[str, float, float], ...]
JOB_TITLES: dict[str, Options] = {
    "C-level": (
        ("CEO", 1.0, 0.0), ("Chief Revenue Officer", 0.6, 0.4), ("CMO", 0.8, 0.2), ("Founder", 1.0, -0.4),
    ),
    "VP/Director": (
        ("VP Sales", 1.0, 0.3), ("VP Marketing", 0.8, 0.2), ("Head of Marketing", 1.0, 0.3),
        ("Director of Revenue Operations", 0.5, 0.5),
    ),
    "Manager": (
        ("Marketing Manager", 1.0, 0.1), ("Sales Manager", 1.0, 0.2),
        ("Revenue Operations Manager", 0.4, 0.5), ("Office Manager", 0.4, -0.6),
    ),
    "Individual contributor": (
        ("Analyst", 1.0, 0.0), ("Sales Representative", 1.0, 0.0), ("Marketing Specialist", 0.8, 0.0),
        ("Consultant", 0.7, -0.6),
    ),
    "Student": (("Student", 1.0, 0.0), ("Intern", 0.4, 0.0)),
}  # fmt: skip
LAST_ACTIVITIES: Options = (
    ("Pricing page", 1.0, 0.9), ("Free trial", 0.5, 0.7), ("Case study", 0.7, 0.4), ("Webinar", 0.8, 0.1),
    ("Blog post", 1.2, -0.4), ("Newsletter", 1.0, -0.6),
)  # fmt: skip
SIGN_UP_FORMS: Options = (
    ("Demo request", 0.5, 1.6), ("Contact sales", 0.5, 1.1), ("Free trial", 0.7, 0.5),
    ("Ebook download", 1.2, -0.5), ("Newsletter", 1.2, -1.2),
)  # fmt: skip
WEBSITE_SECONDS = 150.0  # the median time on the website of a lead of average quality
PROMO_TRAP = "promo_code_used"
# The code leaked this many days before the data ends: well inside the tuning's learning window (all but
# its last 90 days), as a real promotion fades, so a learner that checks a rule still holds on the newest
# part of what it learns from can tell the trap from a signal; noise through the test window.
TRAP_DAYS = 200
# The share of leads each attribute is missing on, as a CRM's optional fields are.
MISSING_SHARE = {
    "job_title": 0.12,
    "time_on_website": 0.08,
    "last_activity": 0.10,
    "sign_up_form": 0.06,
    PROMO_TRAP: 0.15,
}


class DatabaseNotEmpty(RuntimeError):
    def __init__(self) -> None:
        super().__init__("the database already holds data; add --reset to replace it with the demo company")


@dataclass
class SeedSummary:
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def describe(self) -> str:
        lines = [f"demo company ready in {self.seconds:.1f} s:"]
        lines += [f"  {count:>10,}  {name}" for name, count in self.counts.items()]
        lines.append(f"log in as rep, manager, marketer, exec or admin with the password {DEMO_PASSWORD!r}")
        return "\n".join(lines)


# ---------------------------------------------------------------- small helpers


def _pick(rng: np.random.Generator, options: Sequence[str], weights: Sequence[float], n: int) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return np.asarray(options, dtype=object)[rng.choice(len(options), size=n, p=p / p.sum())]


def _lag_days(rng: np.random.Generator, median_days: float, n: int, spread: float = 0.6) -> np.ndarray:
    return rng.lognormal(mean=np.log(median_days), sigma=spread, size=n)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)))


def _day_start(today: date) -> datetime:
    return datetime.combine(today - timedelta(days=HISTORY_DAYS), datetime.min.time())


# ---------------------------------------------------------------- traffic


def make_traffic(rng: np.random.Generator, today: date) -> pl.DataFrame:
    """Daily sessions per channel: growth over the year, quieter weekends, a little noise."""
    days = pl.date_range(today - timedelta(days=HISTORY_DAYS), today, eager=True)
    n = len(days)
    growth = 1.0 + 0.35 * np.arange(n) / n
    weekend = np.where(days.dt.weekday().to_numpy() >= 6, 0.55, 1.0)
    frames = []
    for channel, base in zip(CHANNELS, CHANNEL_SESSIONS, strict=True):
        sessions = base * growth * weekend * rng.lognormal(0.0, 0.12, n)
        frames.append(
            pl.DataFrame({"day": days, "channel": channel, "sessions": sessions.round().astype(np.int64)})
        )
    return pl.concat(frames)


# ---------------------------------------------------------------- leads


def _lead_days(rng: np.random.Generator, traffic: pl.DataFrame, n: int) -> np.ndarray:
    daily = traffic.group_by("day").agg(pl.col("sessions").sum()).sort("day")
    weights = daily["sessions"].to_numpy().astype(float)
    return np.asarray(rng.choice(len(weights), size=n, p=weights / weights.sum()))


def _profiles(rng: np.random.Generator, n: int) -> pl.DataFrame:
    source = _pick(rng, CHANNELS, CHANNEL_LEAD_SHARE, n)
    campaign = np.full(n, None, dtype=object)
    for channel, names in CAMPAIGNS.items():
        mask = source == channel
        campaign[mask] = np.asarray(names, dtype=object)[rng.integers(0, len(names), mask.sum())]
    industry = _pick(rng, INDUSTRIES, INDUSTRY_WEIGHTS, n)
    size = _pick(rng, SIZES, SIZE_WEIGHTS, n)
    # The over-targeted segment is what social promos attract: small retailers.
    small_retail_boost = (source == "social") & (rng.random(n) < 0.35)
    industry[small_retail_boost] = "Retail"
    size[small_retail_boost] = "1-10"
    return pl.DataFrame(
        {
            "source": source,
            "campaign": campaign.tolist(),
            "industry": industry,
            "company_size": size,
            "country": _pick(rng, COUNTRIES, COUNTRY_WEIGHTS, n),
            "persona": _pick(rng, PERSONAS, PERSONA_WEIGHTS, n),
            "landing_page": _pick(rng, LANDING_PAGES, (3, 3, 2, 2, 2, 1), n),
        },
        schema={
            c: pl.String
            for c in ("source", "campaign", "industry", "company_size", "country", "persona", "landing_page")
        },
    )


def _with_outbound(profiles: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Half the "direct" leads become leads sales' SDRs prospected themselves ("outbound"), so that the
    marketing-sourced share is not 100%. A generator of its own keeps every other column exactly as
    before."""
    own = _side_stream(rng)
    flip = (profiles["source"] == "direct").to_numpy() & (own.random(profiles.height) < 0.5)
    chosen = pl.Series("flip", flip)
    return profiles.with_columns(
        pl.when(chosen).then(pl.lit("outbound")).otherwise(pl.col("source")).alias("source"),
        pl.when(chosen).then(pl.lit("SDR prospecting")).otherwise(pl.col("campaign")).alias("campaign"),
    )


def _quality(rng: np.random.Generator, profiles: pl.DataFrame) -> np.ndarray:
    """A hidden fit score: the truth that ratings and outcomes reveal and the criteria only guess at."""
    industry = profiles["industry"].to_numpy()
    size = profiles["company_size"].to_numpy()
    persona = profiles["persona"].to_numpy()
    size_effect = {"1-10": -0.6, "11-50": -0.1, "51-200": 0.3, "201-1000": 0.5, "1000+": 0.6}
    persona_effect = {
        "C-level": 0.5,
        "VP/Director": 0.5,
        "Manager": 0.1,
        "Individual contributor": -0.3,
        "Student": -2.5,
    }
    q = rng.normal(0.0, 0.8, len(profiles))
    q += np.vectorize(size_effect.__getitem__)(size)
    q += np.vectorize(persona_effect.__getitem__)(persona)
    q += np.where(industry == "Software", 0.3, 0.0) + np.where(industry == "Education", -0.4, 0.0)
    over = (industry == OVER_TARGETED["industry"]) & (size == OVER_TARGETED["company_size"])
    under = (industry == UNDER_TARGETED["industry"]) & (persona == UNDER_TARGETED["persona"])
    return np.asarray(q - 1.3 * over + 1.8 * under)


def _engagement(rng: np.random.Generator, quality: np.ndarray) -> pl.DataFrame:
    lift = np.clip(quality, -1.5, 0.8)
    return pl.DataFrame(
        {
            "page_views": rng.poisson(np.exp(1.2 + 0.25 * lift)),
            "email_clicks": rng.poisson(np.exp(0.1 + 0.3 * lift)),
            "content_downloads": rng.poisson(np.exp(-0.9 + 0.35 * lift)),
        }
    ).cast(pl.Int64)


# ---------------------------------------------------------------- custom attributes


def _side_stream(rng: np.random.Generator) -> np.random.Generator:
    """A generator of its own, seeded from `rng`'s state without advancing it: what it draws moves none of
    the columns `rng` draws afterwards."""
    return np.random.Generator(np.random.PCG64(int(rng.bit_generator.state["state"]["state"])))


def _choice(rng: np.random.Generator, options: Options, quality: np.ndarray) -> np.ndarray:
    """The index of one option per lead, at odds weight * e^(tilt * quality)."""
    weights = np.asarray([weight for _, weight, _ in options])
    tilts = np.asarray([tilt for _, _, tilt in options])
    cumulative = np.cumsum(weights * np.exp(np.outer(quality, tilts)), axis=1)
    draw = rng.random(len(quality)) * cumulative[:, -1]
    return np.minimum((cumulative < draw[:, None]).sum(axis=1), len(options) - 1)


def _values(options: Options, picked: np.ndarray) -> pl.Series:
    return pl.Series([value for value, _, _ in options], dtype=pl.String).gather(picked)


def _job_titles(rng: np.random.Generator, persona: pl.Series, quality: np.ndarray) -> pl.Series:
    """A title that fits the persona, the better titles more often on the better leads."""
    every_title: Options = tuple(option for options in JOB_TITLES.values() for option in options)
    picked = np.zeros(len(quality), dtype=np.int64)
    first = 0
    for name, options in JOB_TITLES.items():
        mask = (persona == name).to_numpy()
        picked[mask] = first + _choice(rng, options, quality[mask])
        first += len(options)
    return _values(every_title, picked)


def _seconds_on_website(rng: np.random.Generator, quality: np.ndarray) -> np.ndarray:
    """Skewed as real visit times are: most leads stay a few minutes, a few stay an hour."""
    median = np.log(WEBSITE_SECONDS) + 0.7 * np.clip(quality, -3.0, 3.0)
    return np.clip(np.rint(rng.lognormal(median, 0.8)), 5, 4 * 3600).astype(np.int64)


def _promo_codes(
    rng: np.random.Generator, quality: np.ndarray, created: np.ndarray, trap_from: np.datetime64
) -> pl.Series:
    """The trap: reps handed the code to the prospects they liked, until it leaked to a coupon site
    TRAP_DAYS before the data ends; from then on anyone used it, about as often as before."""
    liked = _sigmoid(1.2 * quality - 1.4)
    before = created < trap_from
    share = float(liked[before].mean()) if before.any() else float(liked.mean())
    used = rng.random(len(quality)) < np.where(before, liked, share)
    return pl.Series(["no", "yes"], dtype=pl.String).gather(used.astype(np.int64))


def make_attributes(
    rng: np.random.Generator, persona: pl.Series, quality: np.ndarray, created: np.ndarray
) -> pl.DataFrame:
    """The custom attributes of every lead (null where missing), drawn from its hidden quality, so that
    ratings and outcomes agree with them without a single draw of theirs changing."""
    trap_from = created.max() + np.timedelta64(1, "us") - np.timedelta64(TRAP_DAYS, "D")
    promo = _promo_codes(rng, quality, created, trap_from)
    frame = pl.DataFrame(
        {
            "job_title": _job_titles(rng, persona, quality),
            "time_on_website": _seconds_on_website(rng, quality),
            "last_activity": _values(LAST_ACTIVITIES, _choice(rng, LAST_ACTIVITIES, quality)),
            "sign_up_form": _values(SIGN_UP_FORMS, _choice(rng, SIGN_UP_FORMS, quality)),
            PROMO_TRAP: promo,
        }
    )
    gaps = {name: rng.random(len(quality)) < share for name, share in MISSING_SHARE.items()}
    return frame.with_columns(
        pl.when(pl.Series(missing)).then(None).otherwise(pl.col(name)).alias(name)
        for name, missing in gaps.items()
    )


def attributes_json(attributes: pl.DataFrame) -> pl.Series:
    """Each lead's attributes as the JSON object an import stores (keys sorted, missing ones left out, null
    when all are). Written as text, far faster than encoding: every value is one of ours (no quotes, no
    backslashes) or a whole number."""
    pairs = [
        pl.format(f'"{name}":{{}}' if attributes.schema[name].is_numeric() else f'"{name}":"{{}}"', name)
        for name in sorted(attributes.columns)
    ]
    present = pl.any_horizontal(pl.all().is_not_null())
    body = pl.concat_str(pairs, separator=",", ignore_nulls=True)
    return attributes.select(pl.when(present).then("{" + body + "}").alias("attributes")).to_series()


def _times_before(now: datetime, start: np.ndarray, lag_days: np.ndarray, happens: np.ndarray) -> np.ndarray:
    """start + lag where the event happens and is not in the future; NaT otherwise."""
    at = start + (lag_days * 86_400e6).astype("timedelta64[us]")
    ok = happens & ~np.isnat(start) & (at <= np.datetime64(now, "us"))
    return np.where(ok, at, np.datetime64("NaT", "us"))


@dataclass
class LeadTables:
    leads: pl.DataFrame
    ratings: pl.DataFrame
    activities: pl.DataFrame


def make_leads(
    rng: np.random.Generator,
    traffic: pl.DataFrame,
    n: int,
    today: date,
    criteria: Criteria,
    reps: pl.DataFrame,
) -> LeadTables:
    """Every lead with its stage times, owner and score, plus the ratings and touches on them."""
    now = datetime.combine(today, datetime.min.time()) + timedelta(hours=9)
    day_index = _lead_days(rng, traffic, n)
    created = np.datetime64(_day_start(today), "us") + (
        day_index.astype(np.int64) * 86_400e6 + rng.integers(7 * 3600, 20 * 3600, n) * 1e6
    ).astype("timedelta64[us]")
    # Sorted, so that lead ids follow creation order as they would in a real CRM.
    created = np.sort(np.minimum(created, np.datetime64(now, "us")))
    profiles = _with_outbound(_profiles(rng, n), rng)
    quality = _quality(rng, profiles)
    attributes = make_attributes(_side_stream(rng), profiles["persona"], quality, created)
    frame = pl.concat([profiles, _engagement(rng, quality)], how="horizontal")
    scored = score_leads(frame.lazy(), criteria).collect()
    is_mql = scored["is_mql"].to_numpy()

    mql_at = _times_before(now, created, _lag_days(rng, 0.3, n, 0.8), is_mql)
    is_mql = ~np.isnat(mql_at)
    accepted = rng.random(n) < _sigmoid(1.1 * quality - 1.0)
    rated, stars, rated_at, raters = _ratings(rng, quality, accepted, mql_at, now, scored, reps)
    sql_lag = _times_before(now, mql_at, _lag_days(rng, 4.0, n), accepted & ~rated)
    sql_at = np.where(rated & (stars >= 4), rated_at, sql_lag)
    opp_at = _times_before(now, sql_at, _lag_days(rng, 9.0, n), rng.random(n) < 0.62)
    closed_at = _times_before(now, opp_at, _lag_days(rng, 42.0, n, 0.5), np.ones(n, dtype=bool))
    won = rng.random(n) < _sigmoid(1.2 * quality - 2.5)
    outcome = np.where(won, "won", "lost")
    typical_deal = scored["company_size"].replace_strict(dict(zip(SIZES, SIZE_DEAL, strict=True))).to_numpy()
    deal = typical_deal * rng.lognormal(0, 0.35, n)
    amount = np.where(np.isnat(opp_at), np.nan, np.round(deal, -1))

    touch_at, activities = _activities(rng, mql_at, now, raters)
    first_touch = np.fmin(np.fmin(rated_at, sql_at), touch_at)
    leads = (
        scored.with_columns(
            pl.Series("id", np.arange(1, n + 1, dtype=np.int64)),
            pl.Series("external_id", [f"demo-{i:07d}" for i in range(1, n + 1)], dtype=pl.String),
            pl.Series("created_at", created),
            pl.Series("mql_at", mql_at),
            pl.Series("sql_at", sql_at),
            pl.Series("opportunity_at", opp_at),
            pl.Series("closed_at", closed_at),
            pl.when(pl.lit(pl.Series(~np.isnat(closed_at))))
            .then(pl.lit(pl.Series(outcome)))
            .alias("outcome"),
            pl.Series("amount", amount).fill_nan(None),
            pl.Series("owner_id", raters).alias("owner_id"),
            pl.Series("first_touch_at", first_touch),
            pl.Series("quality", quality),
            attributes_json(attributes),
        )
        .with_columns(pl.when(pl.col("mql_at").is_not_null()).then(pl.col("owner_id")).alias("owner_id"))
        .join(reps.select(pl.col("user_id").alias("owner_id"), "team_id"), on="owner_id", how="left")
    )
    rating_rows = _rating_rows(rng, leads, rated, stars, rated_at)
    return LeadTables(leads=leads, ratings=rating_rows, activities=activities)


def _ratings(
    rng: np.random.Generator,
    quality: np.ndarray,
    accepted: np.ndarray,
    mql_at: np.ndarray,
    now: datetime,
    scored: pl.DataFrame,
    reps: pl.DataFrame,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Who owns each MQL, whether and when they rated it, and the stars they gave."""
    n = len(quality)
    team_of_lead = np.vectorize(TEAM_BY_SIZE.__getitem__)(scored["company_size"].to_numpy())
    owners = np.zeros(n, dtype=np.int64)
    for team, members in reps.group_by("team", maintain_order=True):
        ids = members["user_id"].to_numpy()
        mask = team_of_lead == team[0]
        owners[mask] = ids[rng.integers(0, len(ids), mask.sum())]
    rated_at = _times_before(now, mql_at, _lag_days(rng, 0.9, n, 1.0), rng.random(n) < 0.62)
    rated = ~np.isnat(rated_at)
    flip = rng.random(n) < 0.08
    good = accepted ^ flip
    stars = np.where(
        good, 4 + (rng.random(n) < _sigmoid(quality - 0.5)), 1 + rng.choice(3, n, p=(0.3, 0.4, 0.3))
    )
    harsh_id = reps.filter(pl.col("username") == HARSH_RATER)["user_id"].item()
    harsh = (owners == harsh_id) & (rng.random(n) < 0.75)
    stars = np.clip(stars - harsh, 1, 5).astype(np.int64)
    return rated, stars, rated_at, owners


def _rating_rows(
    rng: np.random.Generator, leads: pl.DataFrame, rated: np.ndarray, stars: np.ndarray, rated_at: np.ndarray
) -> pl.DataFrame:
    over = (leads["industry"] == OVER_TARGETED["industry"]) & (
        leads["company_size"] == OVER_TARGETED["company_size"]
    )
    n = len(leads)
    first_reason = np.asarray(NEGATIVE_REASONS, dtype=object)[
        rng.choice(len(NEGATIVE_REASONS), n, p=(0.2, 0.15, 0.15, 0.15, 0.2, 0.1, 0.05))
    ]
    first_reason = np.where(
        over.to_numpy() & (rng.random(n) < 0.7),
        np.where(rng.random(n) < 0.5, "too_small", "no_budget"),
        first_reason,
    )
    second = np.asarray(NEGATIVE_REASONS, dtype=object)[rng.integers(0, len(NEGATIVE_REASONS), n)]
    two = (rng.random(n) < 0.25) & (second != first_reason)
    note_pick = rng.integers(0, len(RATING_NOTES), n)
    with_note = rng.random(n) < 0.1
    notes = [
        RATING_NOTES[k] if w else None for k, w in zip(note_pick.tolist(), with_note.tolist(), strict=True)
    ]
    frame = pl.DataFrame(
        {
            "lead_id": leads["id"],
            "rater_id": leads["owner_id"],
            "stars": stars,
            "first": first_reason.astype(str),
            "second": second.astype(str),
            "two": two,
            "note": pl.Series(notes, dtype=pl.String),
            "created_at": rated_at,
        }
    ).filter(pl.Series(rated) & pl.col("rater_id").is_not_null())
    # Reasons are stored as JSON text; reason codes hold no quotes, so formatting is valid JSON.
    reasons = (
        pl.when(pl.col("stars") >= 4)
        .then(pl.lit('["good_fit"]'))
        .when(pl.col("two"))
        .then(pl.format('["{}", "{}"]', "first", "second"))
        .otherwise(pl.format('["{}"]', "first"))
    )
    frame = frame.with_columns(reasons.alias("reasons")).drop("first", "second", "two")
    return frame.with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("id"))


def _activities(
    rng: np.random.Generator, mql_at: np.ndarray, now: datetime, owners: np.ndarray
) -> tuple[np.ndarray, pl.DataFrame]:
    n = len(mql_at)
    at = _times_before(now, mql_at, _lag_days(rng, 0.5, n, 1.1), rng.random(n) < 0.5)
    kinds = np.asarray(("call", "email", "meeting"), dtype=object)[rng.choice(3, n, p=(0.5, 0.4, 0.1))]
    frame = pl.DataFrame(
        {"lead_id": np.arange(1, n + 1, dtype=np.int64), "user_id": owners, "kind": kinds, "at": at},
        schema_overrides={"kind": pl.String},
    ).filter(pl.col("at").is_not_null())
    return at, frame.with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("id"))


# ---------------------------------------------------------------- people, criteria, quotas (ORM; few rows)


def _add_people(session: Session) -> dict[str, User]:
    teams = {name: Team(name=name, region=region) for name, region in TEAMS}
    session.add_all(teams.values())
    session.flush()
    password_hash = hash_password(DEMO_PASSWORD)  # one bcrypt for all: it is deliberately slow
    users = {
        username: User(
            username=username,
            name=name,
            # example.com is reserved for examples (RFC 2606): a demo's alert mail reaches nobody real.
            email=f"{username.replace('.', '_')}@example.com",
            role=role,
            team_id=teams[team].id if team else None,
            password_hash=password_hash,
        )
        for username, name, role, team in PEOPLE
    }
    session.add_all(users.values())
    session.flush()
    return users


def _add_launch_criteria(session: Session, users: dict[str, User], today: date) -> tuple[Criteria, int]:
    activated = datetime.combine(today - timedelta(days=HISTORY_DAYS), datetime.min.time(), UTC)
    version = CriteriaVersion(
        number=1,
        status=CriteriaStatus.active,
        threshold=LAUNCH_THRESHOLD,
        rationale="Launch criteria agreed at kick-off",
        proposed_by_id=users["marketer"].id,
        proposed_at=activated - timedelta(days=3),
        approved_by_id=users["manager"].id,
        approved_at=activated,
        activated_at=activated,
    )
    session.add(version)
    session.flush()
    rows = [
        CriteriaRule(
            version_id=int(version.id or 0),
            attribute=r.attribute,
            operator=r.operator,
            value=r.value,
            points=r.points,
        )
        for r in LAUNCH_RULES
    ]
    session.add_all(rows)
    session.flush()
    rules = tuple(
        Rule(r.attribute, r.operator, r.value, r.points, rule_id=row.id)
        for r, row in zip(LAUNCH_RULES, rows, strict=True)
    )
    return Criteria(rules=rules, threshold=LAUNCH_THRESHOLD), int(version.id or 0)


def _reps_frame(users: dict[str, User], session: Session) -> pl.DataFrame:
    team_names = {t.id: t.name for t in session.exec(select(Team)).all()}
    reps = [u for u in users.values() if u.role == Role.rep]
    return pl.DataFrame(
        {
            "user_id": [u.id for u in reps],
            "username": [u.username for u in reps],
            "team_id": [u.team_id for u in reps],
            "team": [team_names[u.team_id] for u in reps],
        },
        schema={"user_id": pl.Int64, "username": pl.String, "team_id": pl.Int64, "team": pl.String},
    )


def _month_starts(first: date, last: date) -> list[date]:
    months, cursor = [], first.replace(day=1)
    while cursor <= last:
        months.append(cursor)
        cursor = (cursor + timedelta(days=32)).replace(day=1)
    return months


def make_quotas(leads: pl.DataFrame, reps: pl.DataFrame, today: date) -> pl.DataFrame:
    """A monthly quota per rep near what they typically win, so attainment lands around 60-120%."""
    won = (
        leads.filter(pl.col("outcome") == "won").group_by("owner_id").agg(pl.col("amount").sum().alias("won"))
    )
    months = _month_starts(today - timedelta(days=HISTORY_DAYS), (today.replace(day=1) + timedelta(days=32)))
    per_month = won.with_columns((pl.col("won") / (HISTORY_DAYS / 30.4) * 1.1 / 1000).round() * 1000)
    amounts = dict(per_month.select("owner_id", "won").iter_rows())
    rows = []
    for rep_id in reps["user_id"].to_list():
        for start in months:
            end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
            rows.append((rep_id, start, end, max(float(amounts.get(rep_id) or 0.0), 10_000.0)))
    return pl.DataFrame(
        rows,
        schema={"user_id": pl.Int64, "period_start": pl.Date, "period_end": pl.Date, "amount": pl.Float64},
        orient="row",
    )


def _add_meeting_state(session: Session, users: dict[str, User], today: date, mqls_per_month: int) -> None:
    session.add(
        SlaSetting(
            mqls_per_month=mqls_per_month,
            follow_up_hours=24,
            rating_days=3,
            acceptance_target=0.4,
            effective_from=datetime.combine(today - timedelta(days=HISTORY_DAYS), datetime.min.time(), UTC),
            set_by_id=users["manager"].id,
        )
    )
    items = (
        ("Refresh the Retail promo targeting", "marketer", 14, False),
        ("Call back every MQL older than 24 h", "rep", 7, False),
        ("Share the forecasting webinar deck with sales", "lena.fischer", 21, True),
        ("Agree the Q-end acceptance target", "manager", 7, True),
    )
    for title, owner, days_ago, closed in items:
        week_day = today - timedelta(days=days_ago)
        iso = week_day.isocalendar()
        session.add(
            ActionItem(
                title=title,
                owner_id=users[owner].id,  # type: ignore[arg-type]
                due_date=week_day + timedelta(days=7),
                meeting_week=f"{iso.year}-W{iso.week:02d}",
                created_by_id=users["manager"].id,  # type: ignore[arg-type]
                created_at=datetime.combine(week_day, datetime.min.time(), UTC),
                closed_at=datetime.combine(week_day + timedelta(days=3), datetime.min.time(), UTC)
                if closed
                else None,
                closed_by_id=users[owner].id if closed else None,
            )
        )


# ---------------------------------------------------------------- bulk writing


@contextmanager
def _without_lead_indexes(connection: Connection) -> Iterator[None]:
    """On SQLite, building the leads indexes once after the load is far faster than updating them per row."""
    indexes = list(Lead.__table__.indexes) if connection.dialect.name == "sqlite" else []  # type: ignore[attr-defined]
    for index in indexes:
        index.drop(connection)
    yield
    for index in indexes:
        index.create(connection)


def _lead_rows(leads: pl.DataFrame, postgres: bool, version_id: int, now_text: str) -> pl.DataFrame:
    times = ("created_at", "mql_at", "sql_at", "opportunity_at", "closed_at", "first_touch_at")
    return text_times(leads, times, postgres).select(
        "id",
        pl.lit(SOURCE_SYSTEM).alias("source_system"),
        "external_id",
        *times,
        "outcome",
        "amount",
        "owner_id",
        "team_id",
        "source",
        "campaign",
        "landing_page",
        "industry",
        "company_size",
        "country",
        "persona",
        "page_views",
        "email_clicks",
        "content_downloads",
        "attributes",
        pl.lit(version_id).alias("criteria_version_id"),
        "score",
        json_list("fired_rules").alias("fired_rule_ids"),
        pl.lit(False).alias("mql_by_import"),
        pl.lit(now_text).alias("updated_at"),
    )


def _rating_tables(ratings: pl.DataFrame, postgres: bool) -> tuple[pl.DataFrame, pl.DataFrame]:
    rows = ratings.with_columns(pl.col("created_at").alias("updated_at"))
    current = text_times(rows, ("created_at", "updated_at"), postgres).select(
        "id", "lead_id", "rater_id", "stars", "reasons", "note", "created_at", "updated_at"
    )
    history = text_times(rows, ("created_at",), postgres).select(
        "id",
        pl.col("id").alias("rating_id"),
        "stars",
        "reasons",
        "note",
        pl.col("rater_id").alias("changed_by_id"),
        pl.col("created_at").alias("changed_at"),
    )
    return current, history


ANSWERED_SHARE = 0.7  # of the rated MQLs, the share whose rep also answered the handoff


def make_answers(ratings: pl.DataFrame, seed: int) -> pl.DataFrame:
    """The reps' handoff answers (lead_handoffs rows): for most rated MQLs, given when the lead was first
    rated (so speed to lead does not move) by its first rater: accepted when rated 4-5, recycled with a
    reason and a date one to three months out when rated 2-3, rejected with a reason when rated 1. Drawn
    from a generator of its own, so every other column of the demo stays as it was."""
    first = ratings.sort("created_at", "id").unique("lead_id", keep="first", maintain_order=True)
    rng = np.random.Generator(np.random.PCG64(seed + 1013))
    n = first.height
    answered = rng.random(n) < ANSWERED_SHARE
    recycle_reason = np.array(RECYCLE_REASONS)[rng.integers(0, len(RECYCLE_REASONS), n)]
    reject_reason = np.array(REJECT_REASONS)[rng.integers(0, len(REJECT_REASONS), n)]
    back_days = rng.integers(30, 91, n)
    stars = pl.col("stars")
    answers = first.with_columns(
        pl.Series("recycle_reason", recycle_reason),
        pl.Series("reject_reason", reject_reason),
        pl.Series("back_days", back_days),
    ).filter(pl.Series(answered))
    return answers.select(
        pl.int_range(1, answers.height + 1, dtype=pl.Int64).alias("id"),
        "lead_id",
        pl.col("rater_id").alias("rep_id"),
        pl.when(stars >= 4)
        .then(pl.lit(ACCEPT))
        .when(stars >= 2)
        .then(pl.lit(RECYCLE))
        .otherwise(pl.lit(REJECT))
        .alias("answer"),
        pl.when(stars >= 4)
        .then(None)
        .when(stars >= 2)
        .then(pl.col("recycle_reason"))
        .otherwise(pl.col("reject_reason"))
        .alias("reason"),
        pl.when((stars >= 2) & (stars < 4))
        .then((pl.col("created_at") + pl.duration(days=pl.col("back_days"))).dt.date())
        .otherwise(None)
        .alias("come_back_on"),
        pl.col("created_at").alias("first_answered_at"),
        pl.col("created_at").alias("answered_at"),
    )


# ---------------------------------------------------------------- the entry point


def _database_has_data(session: Session) -> bool:
    users = session.exec(select(func.count()).select_from(User)).one()
    leads = session.exec(select(func.count()).select_from(Lead)).one()
    return bool(users or leads)


def _delete_everything(connection: Connection) -> None:
    for table in reversed(SQLModel.metadata.sorted_tables):
        connection.execute(table.delete())


def seed_demo(
    engine: Engine,
    *,
    leads: int = 20_000,
    seed: int = 7,
    reset: bool = False,
    today: date | None = None,
    progress: ProgressFn | None = None,
) -> SeedSummary:
    """Make the demo company in one transaction; refuse a database that holds data unless `reset`."""
    report = progress or no_progress
    started = time.perf_counter()
    today = today or clock.today()
    rng = np.random.Generator(np.random.PCG64(seed))
    postgres = engine.dialect.name == "postgresql"
    with engine.execution_options(**{WRITE_OPTION: True}).begin() as connection:
        session = Session(bind=connection)
        if _database_has_data(session):
            if not reset:
                raise DatabaseNotEmpty()
            report("deleting the old data", 0.0)
            _delete_everything(connection)
        session.add(
            DataSource(
                name=SOURCE_SYSTEM,
                label="Demo company",
                stages=["created", "mql", "sql", "opportunity", "won"],
                has_traffic=True,
            )
        )
        users = _add_people(session)
        criteria, version_id = _add_launch_criteria(session, users, today)
        reps = _reps_frame(users, session)
        report("making traffic and leads", 0.05)
        traffic = make_traffic(rng, today)
        tables = make_leads(rng, traffic, leads, today, criteria, reps)
        quotas = make_quotas(tables.leads, reps, today)
        mql_count = int(tables.leads["mql_at"].is_not_null().sum())
        _add_meeting_state(
            session, users, today, mqls_per_month=max(10, round(mql_count / (HISTORY_DAYS / 30.4) / 10) * 10)
        )
        audit.record(
            session=session, action="demo.seed", actor=users["admin"], detail=f"leads={leads} seed={seed}"
        )
        session.flush()
        now_text = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") + ("+00:00" if postgres else "")
        bulk_insert(
            connection,
            "daily_traffic",
            traffic.with_columns(pl.lit(SOURCE_SYSTEM).alias("source_system")),
            report,
            "writing traffic",
        )
        with _without_lead_indexes(connection):
            bulk_insert(
                connection,
                "leads",
                _lead_rows(tables.leads, postgres, version_id, now_text),
                report,
                "writing leads",
            )
        current, history = _rating_tables(tables.ratings, postgres)
        bulk_insert(connection, "lead_ratings", current, report, "writing ratings")
        bulk_insert(connection, "lead_rating_history", history, report, "writing rating history")
        answers = make_answers(tables.ratings, seed)
        bulk_insert(
            connection,
            "lead_handoffs",
            text_times(answers, ("first_answered_at", "answered_at"), postgres),
            report,
            "writing handoff answers",
        )
        bulk_insert(
            connection,
            "activities",
            text_times(tables.activities, ("at",), postgres),
            report,
            "writing activities",
        )
        bulk_insert(
            connection,
            "quotas",
            quotas.with_columns(pl.lit("month").alias("period_kind")),
            report,
            "writing quotas",
        )
        report("making sales content", 0.97)
        content = make_content(
            tables.leads, {name: int(user.id or 0) for name, user in users.items()}, today, seed, HISTORY_DAYS
        )
        write_content(connection, content, postgres, report)
        fix_sequences(
            connection,
            (
                *CONTENT_TABLES,
                "leads",
                "lead_ratings",
                "lead_rating_history",
                "lead_handoffs",
                "activities",
                "quotas",
                "daily_traffic",
            ),
        )
        session.close()
    if not postgres:
        with engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
    report("done", 1.0)
    return SeedSummary(
        counts={
            "people": len(PEOPLE),
            "leads": leads,
            "MQLs": mql_count,
            "won deals": int((tables.leads["outcome"] == "won").sum()),
            "ratings": len(tables.ratings),
            "handoff answers": answers.height,
            "activities": len(tables.activities),
            "traffic days x channels": len(traffic),
            "quotas": len(quotas),
            **content.counts(),
        },
        seconds=time.perf_counter() - started,
    )
