"""First guesses for an import mapping from a CRM export's header and a sample of its values.

A header only proposes a column for a field; the column's values decide. An "Email consent amount" column
of yes/no holds no amounts, and a column of unique ids is the record id whatever its header says.
Everything here reads a sample of the file as a polars frame of strings (one column per header)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

import polars as pl

# Words in a header that suggest each field, most telling first (the order is also the guessing order).
FIELD_HINTS: dict[str, tuple[str, ...]] = {
    "external_id": ("record id", "lead id", "opportunity id", "external id", "id"),
    "created_date": ("create date", "created", "created date", "first contact"),
    "mql_date": ("marketing qualified", "mql date", "mql"),
    "sql_date": ("sales qualified", "sql date", "sql"),
    "opportunity_date": ("opportunity date", "became an opportunity", "engage"),
    "close_date": ("close date", "closed", "won date", "won time", "date won", "converted date"),
    "amount": ("amount", "deal value", "close value", "value", "revenue"),
    "owner": ("owner", "sales rep", "sales agent", "rep"),
    "team": ("team",),
    "source": ("original source", "lead source", "source", "origin", "channel"),
    "campaign": ("campaign",),
    "landing_page": ("landing page",),
    "industry": ("industry", "sector"),
    "company_size": ("employees", "company size", "size"),
    "country": ("country",),
    "persona": ("job title", "title", "persona", "seniority"),
    "page_views": ("page views", "pageviews"),
    "email_clicks": ("email clicks",),
    "content_downloads": ("content downloads", "downloads"),
}
SHORTEST_PARTIAL_HINT = 4  # "id" or "rep" inside a longer header says nothing ("paid", "report")
# Words that make a header a forecast or a firmographic, not the field its other words name: "Expected
# close date" has not happened, "Annual revenue" is the company's, not the deal's.
NOT_THE_FIELD: dict[str, tuple[str, ...]] = {
    **{
        name: ("expected", "forecast", "estimated", "planned", "projected", "target", "next", "due")
        for name in ("created_date", "mql_date", "sql_date", "opportunity_date", "close_date")
    },
    "amount": ("annual", "expected", "forecast", "estimated", "weighted", "projected", "target", "currency"),
}

NUMBER, DATE, YES_NO, ID, EMAIL, FREE_TEXT, CATEGORY, EMPTY = (
    "number", "date", "yes-no", "id", "email", "free text", "category", "empty",
)  # fmt: skip
KINDS = (NUMBER, DATE, YES_NO, ID, EMAIL, FREE_TEXT, CATEGORY, EMPTY)
# The kinds a column may be to hold each field; a blank column contradicts no field.
DATE_KINDS = frozenset({DATE, EMPTY})
NUMBER_KINDS = frozenset({NUMBER, EMPTY})
TEXT_KINDS = frozenset({CATEGORY, ID, FREE_TEXT, EMPTY})
CATEGORY_FIELDS = ("source", "campaign", "industry", "country", "persona")
FIELD_KINDS: dict[str, frozenset[str]] = {
    "created_date": DATE_KINDS,
    "mql_date": DATE_KINDS,
    "sql_date": DATE_KINDS,
    "opportunity_date": DATE_KINDS,
    "close_date": DATE_KINDS,
    "amount": NUMBER_KINDS,
    "owner": frozenset({CATEGORY, EMAIL, EMPTY}),
    "team": frozenset({CATEGORY, EMPTY}),
    "company_size": frozenset({CATEGORY, NUMBER, EMPTY}),
    # A category repeats its values: a column of unique ids or of sentences is no source or persona.
    **{name: frozenset({CATEGORY, EMPTY}) for name in CATEGORY_FIELDS},
    "page_views": NUMBER_KINDS | {YES_NO},
    "email_clicks": NUMBER_KINDS | {YES_NO},
    "content_downloads": NUMBER_KINDS | {YES_NO},
}
COUNT_FIELDS = ("page_views", "email_clicks", "content_downloads")
MOST_OWNERS = 50  # an owner column names a sales team, not a person per lead
KEPT_BY_DEFAULT = frozenset({NUMBER, DATE, YES_NO, CATEGORY})  # ids, emails, free text: too many values

DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%S%.fZ",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y/%m/%d",
    "%m/%d/%Y",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M %p",
    "%d/%m/%Y",
    "%d/%m/%Y %H:%M",
    "%d.%m.%Y",
    "%d.%m.%Y %H:%M",
)
YES_NO_WORDS = frozenset({"yes", "no", "y", "n", "true", "false", "t", "f"})
CURRENCY_AND_SPACES = r"[\s$€£¥₹]"
NUMBER_TEXT = r"^[-+]?(\d+|\d{1,3}(,\d{3})+|\d{1,3}(\.\d{3})+)([.,]\d+)?$"
EMAIL_TEXT = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
# Share of a column's values that must look like numbers, dates or emails for it to hold them: a stray
# bad cell must not hide the column (the import then names that cell).
MOSTLY = 0.9
FREE_TEXT_LENGTH = 40  # characters, on average: notes and descriptions, not categories
FREE_TEXT_WORDS = 4  # words, on average, in a column of mostly different values
ONE_PER_ROW_MIN = 20  # filled rows from which a column of mostly different values is names, not categories
EXAMPLES_SHOWN = 3

STAR_WORDS: dict[str, int] = {
    "excellent": 5, "very good": 5, "great": 5, "hot": 5, "high": 5, "a": 5,
    "good": 5, "b": 4,
    "warm": 3, "average": 3, "medium": 3, "ok": 3, "okay": 3, "fair": 3, "neutral": 3, "c": 3,
    "poor": 2, "low": 2, "d": 2,
    "cold": 1, "bad": 1, "very poor": 1, "very bad": 1, "junk": 1, "spam": 1, "e": 1,
}  # fmt: skip
BETTER_THAN_GOOD = frozenset({"excellent", "very good", "great"})
MIDDLE_STARS = 3


# ---------------------------------------------------------------- headers


def _normal(text: str) -> str:
    """Lower-case words: "Lead_ID", "leadId" and "Lead ID" all read "lead id"."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text)
    return re.sub(r"[^a-z0-9]+", " ", spaced.lower()).strip()


def header_says_id(header: str) -> bool:
    return bool({"id", "uuid", "guid"} & set(_normal(header).split()))


def header_candidates(field: str, header: Sequence[str]) -> list[str]:
    """Every header that may hold `field`, most likely first: exact hints, then hints inside a name."""
    excluded = NOT_THE_FIELD.get(field, ())
    header = [h for h in header if not set(excluded) & set(_normal(h).split())]
    names = {_normal(h): h for h in reversed(header)}  # a repeated normal form: the first header wins
    hints = FIELD_HINTS.get(field, ())
    found = [names[hint] for hint in hints if hint in names]
    for hint in hints:
        if len(hint) >= SHORTEST_PARTIAL_HINT:
            found += [h for h in header if hint in _normal(h)]
    return list(dict.fromkeys(found))


def guess_column(field: str, header: Sequence[str]) -> str | None:
    """The header that most likely holds `field`, by its name alone."""
    return next(iter(header_candidates(field, header)), None)


def guessed_columns(header: Sequence[str]) -> dict[str, str]:
    """A first guess for every field from the header alone, never using one header twice."""
    used: set[str] = set()
    guesses: dict[str, str] = {}
    for field in FIELD_HINTS:
        column = guess_column(field, [h for h in header if h not in used])
        if column is not None:
            guesses[field] = column
            used.add(column)
    return guesses


# ---------------------------------------------------------------- values


def _filled(values: pl.Series) -> pl.Series:
    """The non-empty values, without surrounding spaces."""
    stripped = values.cast(pl.String).str.strip_chars()
    return stripped.filter(stripped.str.len_chars() > 0)


def _all(mask: pl.Series) -> bool:
    return bool(mask.all())


def looks_like_numbers(values: pl.Series) -> pl.Series:
    """Per value: a number as CRMs write them ("1,200.50", "12.500,00", "$ 40", "-5")."""
    return values.str.replace_all(CURRENCY_AND_SPACES, "").str.contains(NUMBER_TEXT)


def _read_as_date(date_format: str) -> pl.Expr:
    return pl.col("value").str.to_datetime(date_format, strict=False).is_not_null()


def looks_like_dates(values: pl.Series, formats: Sequence[str] = DATE_FORMATS) -> pl.Series:
    """Per value: readable with one of `formats` (a format polars cannot use reads nothing)."""
    frame = values.alias("value").to_frame()
    try:  # all formats in one pass; a format polars refuses spoils the pass, so then one at a time
        return frame.select(pl.any_horizontal(_read_as_date(f) for f in formats)).to_series()
    except (pl.exceptions.PolarsError, ValueError):
        pass
    read = pl.Series([False] * values.len())
    for date_format in formats:
        try:
            read = read | frame.select(_read_as_date(date_format)).to_series()
        except (pl.exceptions.PolarsError, ValueError):
            continue
    return read


def _is_yes_no(values: pl.Series) -> bool:
    folded = set(values.str.to_lowercase().unique().to_list())
    words = folded - {"0", "1"}
    return folded == {"0", "1"} or (bool(words) and words <= YES_NO_WORDS and len(folded) <= 4)


def _mean(values: pl.Series) -> float:
    """The mean of a column of numbers or flags (0 for no values)."""
    return float(values.cast(pl.Float64).sum()) / values.len() if values.len() else 0.0


def _share(mask: pl.Series, rows: pl.Series) -> float:
    """The share of the rows whose value `mask` marks (`rows`: how many rows hold each value)."""
    total = float(rows.sum())
    return float(rows.filter(mask).sum()) / total if total else 0.0


def _is_code_like(values: pl.Series) -> bool:
    """Values such as "R-1001" or "00Q5g000001AbC": no spaces, letters and digits in each (a band such as
    "11-50" has no letters)."""
    return _all(~values.str.contains(r"\s") & values.str.contains(r"\d") & values.str.contains(r"[A-Za-z]"))


def _is_free_text(values: pl.Series) -> bool:
    mean_length = _mean(values.str.len_chars())
    if mean_length >= FREE_TEXT_LENGTH:
        return True
    mostly_different = values.n_unique() >= MOSTLY * values.len()
    mean_words = _mean(values.str.split(" ").list.len())
    return mostly_different and values.len() >= 5 and mean_words >= FREE_TEXT_WORDS


def column_kind(header: str, values: pl.Series, formats: Sequence[str] = DATE_FORMATS) -> str:
    """What a column holds, judged from its non-empty values (and, for an id, its header)."""
    filled = _filled(values)
    if filled.is_empty():
        return EMPTY
    if _mean(filled.str.contains(EMAIL_TEXT)) >= MOSTLY:
        return EMAIL
    if _is_yes_no(filled):
        return YES_NO
    # Each value checked once (a category of 3 values in 2,000 rows is 3 checks), weighed by its rows.
    counts = filled.rename("value").value_counts(name="rows")
    distinct, rows = counts.get_column("value"), counts.get_column("rows")
    unique_and_full = distinct.len() == filled.len() == values.len()
    if unique_and_full and header_says_id(header):
        return ID
    if _share(looks_like_numbers(distinct), rows) >= MOSTLY:
        return NUMBER
    if _share(looks_like_dates(distinct, formats), rows) >= MOSTLY:
        return DATE
    if unique_and_full and filled.len() >= 2 and _is_code_like(distinct):
        return ID
    if filled.len() >= ONE_PER_ROW_MIN and distinct.len() >= MOSTLY * filled.len():
        return FREE_TEXT  # a name per record (a deal title, a company): no category repeats so rarely
    return FREE_TEXT if _is_free_text(filled) else CATEGORY


def _examples(filled: pl.Series) -> list[str]:
    return filled.unique(maintain_order=True).head(EXAMPLES_SHOWN).to_list()


def without_empty_words(sample: pl.DataFrame, null_values: Sequence[str]) -> pl.DataFrame:
    """The sample with the cells that mean empty ("N/A", "--", any case, spaces around) made blank."""
    words = sorted({v.strip().lower() for v in null_values if v.strip()})
    if not words:
        return sample
    return sample.with_columns(
        pl.when(pl.col(name).str.strip_chars().str.to_lowercase().is_in(words))
        .then(pl.lit(None, dtype=pl.String))
        .otherwise(pl.col(name))
        .alias(name)
        for name in sample.columns
    )


def profile_columns(sample: pl.DataFrame, formats: Sequence[str] = DATE_FORMATS) -> pl.DataFrame:
    """One row per column: its kind, the share of rows that fill it, its distinct values and examples."""
    rows = []
    for name in sample.columns:
        values = sample.get_column(name).cast(pl.String)
        filled = _filled(values)
        rows.append(
            {
                "column": name,
                "kind": column_kind(name, values, formats),
                "fill": filled.len() / sample.height if sample.height else 0.0,
                "distinct": filled.n_unique(),
                "examples": _examples(filled),
            }
        )
    schema: dict[str, pl.DataType] = {
        "column": pl.String(),
        "kind": pl.String(),
        "fill": pl.Float64(),
        "distinct": pl.Int64(),
        "examples": pl.List(pl.String()),
    }
    return pl.DataFrame(rows, schema=schema)


# ---------------------------------------------------------------- guessing the fields


def _fits(field: str, values: pl.Series, kind: str) -> bool:
    """Whether the values could be `field` (a header alone never decides)."""
    if field == "external_id":
        filled = _filled(values)
        return kind not in {EMPTY, YES_NO} and filled.len() == values.len() == filled.n_unique()
    if kind not in FIELD_KINDS.get(field, TEXT_KINDS):
        return False
    filled = _filled(values)
    if field in COUNT_FIELDS:
        return _all(filled.str.contains(r"^\d+$"))
    if field == "owner":
        return filled.n_unique() <= MOST_OWNERS or filled.n_unique() * 2 <= filled.len()
    if field in CATEGORY_FIELDS and not filled.is_empty():
        # One value per row ("Deal - Title") names a record, not a persona or a source.
        distinct = filled.n_unique()
        return distinct < filled.len() and (distinct <= MOST_OWNERS or distinct * 2 <= filled.len())
    return True


def _record_id(sample: pl.DataFrame, kinds: dict[str, str], free: Sequence[str]) -> str | None:
    """Without a header hint that fits: a column of unique ids, one whose header says id first."""
    unique = [name for name in free if _fits("external_id", sample.get_column(name), kinds[name])]
    said = [name for name in unique if header_says_id(name)]
    coded = [name for name in unique if kinds[name] == ID]
    return next(iter([*said, *coded]), None)


def guess_mapping(
    sample: pl.DataFrame, formats: Sequence[str] = DATE_FORMATS, profile: pl.DataFrame | None = None
) -> dict[str, str]:
    """A first guess, field -> column, for every field a column both is named like and holds; never one
    column twice. `sample`: some of the file's rows, one String column per header; `profile`: its
    profile_columns, when already made."""
    if profile is None:
        profile = profile_columns(sample, formats)
    kinds = dict(zip(profile["column"].to_list(), profile["kind"].to_list(), strict=True))
    guesses: dict[str, str] = {}
    for field in FIELD_HINTS:
        free = [name for name in sample.columns if name not in guesses.values()]
        fitting = [
            name
            for name in header_candidates(field, free)
            if _fits(field, sample.get_column(name), kinds[name])
        ]
        chosen = fitting[0] if fitting else None
        if chosen is None and field == "external_id":
            chosen = _record_id(sample, kinds, free)
        if chosen is not None:
            guesses[field] = chosen
    return guesses


# ---------------------------------------------------------------- attributes and ratings


def attribute_key(header: str, taken: Iterable[str] = (), longest: int = 100) -> str:
    """The attribute name for a column: its header in snake_case ("Job Title" -> "job_title"), with
    "_attribute" added when that is a name already taken (a lead field's), then a number if need be."""
    key = _normal(header).replace(" ", "_")[:longest] or "column"
    if key[0].isdigit():
        key = f"column_{key}"[:longest]
    taken = set(taken)
    if key not in taken:
        return key
    key = f"{key[: longest - len('_attribute')]}_attribute"
    number = 2
    candidate = key
    while candidate in taken:
        candidate = f"{key[: longest - len(str(number)) - 1]}_{number}"
        number += 1
    return candidate


def attribute_keys(
    headers: Sequence[str], reserved: Iterable[str] = (), longest: int = 100
) -> dict[str, str]:
    """header -> attribute name for each header, no two alike and none in `reserved`."""
    taken = set(reserved)
    keys: dict[str, str] = {}
    for header in headers:
        keys[header] = attribute_key(header, taken, longest)
        taken.add(keys[header])
    return keys


def holds_stars(values: pl.Series) -> bool:
    """Whether every non-empty value is already a whole number of stars, 1 to 5."""
    filled = _filled(values)
    return not filled.is_empty() and _all(filled.str.contains(r"^[1-5]$"))


def _scaled_stars(value: float, low: float, high: float) -> int:
    if high <= low:
        return MIDDLE_STARS
    return 1 + round(4 * (value - low) / (high - low))


def guess_stars(values: Sequence[str]) -> dict[str, int]:
    """A first guess of the stars each rating value means: numbers spread over 1-5 (1-5 themselves),
    words such as Hot / Warm / Cold or Good / Average / Bad by their meaning, anything else 3."""
    numbers = pl.Series(list(values), dtype=pl.String).str.strip_chars()
    if numbers.len() and _all(looks_like_numbers(numbers)):
        read = [float(v.replace(",", ".")) for v in numbers.to_list()]
        low, high = (1.0, 5.0) if min(read) >= 1 and max(read) <= 5 else (min(read), max(read))
        return {v: _scaled_stars(n, low, high) for v, n in zip(values, read, strict=True)}
    folded = {v: " ".join(v.strip().lower().split()) for v in values}
    good = 4 if BETTER_THAN_GOOD & set(folded.values()) else 5
    words = STAR_WORDS | {"good": good}
    return {v: words.get(folded[v], MIDDLE_STARS) for v in values}


def attribute_candidates(
    profile: pl.DataFrame, mapped: Iterable[str], reserved: Iterable[str] = (), longest: int = 100
) -> pl.DataFrame:
    """The columns nothing else in the mapping reads, as attributes to keep: whether each is kept by
    default, its profile (examples as one text), and the attribute name it would fill."""
    rest = profile.filter(~pl.col("column").is_in(list(mapped)))
    keys = attribute_keys(rest.get_column("column").to_list(), reserved, longest)
    return rest.select(
        pl.col("kind").is_in(sorted(KEPT_BY_DEFAULT)).alias("keep"),
        "column",
        "kind",
        "fill",
        "distinct",
        pl.col("examples").list.join(", ").alias("examples"),
        pl.Series("attribute", [keys[c] for c in rest.get_column("column")], dtype=pl.String),
    )


def kept_attributes(candidates: pl.DataFrame) -> dict[str, str]:
    """column -> attribute name for the candidates marked keep."""
    kept = candidates.filter(pl.col("keep"))
    return dict(zip(kept.get_column("column").to_list(), kept.get_column("attribute").to_list(), strict=True))


# ---------------------------------------------------------------- the outcome column

OUTCOME_HEADER_HINTS = ("outcome", "status", "result", "stage", "won", "lost")
WON_WORDS = frozenset({"won", "win", "wins"})
LOST_WORDS = frozenset({"lost", "loss", "lose"})
MOST_OUTCOME_VALUES = 30  # a status column has a handful of values, not one per deal


def guess_outcome(value: str) -> str:
    """ "Closed Won" → won, "Closed - Lost" → lost, "Not won" and anything else → open."""
    words = _normal(value).split()
    if "not" in words:
        return "open"
    if WON_WORDS & set(words):
        return "won"
    return "lost" if LOST_WORDS & set(words) else "open"


def guess_outcome_values(values: Iterable[str]) -> dict[str, str]:
    return {value: guess_outcome(value) for value in values}


def _value_columns(
    sample: pl.DataFrame,
    taken: Iterable[str],
    most: int,
    hints: Sequence[str],
    holds: Callable[[list[str]], bool],
) -> str | None:
    """The first column not `taken` whose few (at most `most`) distinct values `holds` accepts, one whose
    header holds a word of `hints` first."""
    skipped = set(taken)
    holding = []
    for name in sample.columns:
        values = _filled(sample.get_column(name)).unique()
        if name not in skipped and 0 < values.len() <= most and holds(values.to_list()):
            holding.append(name)
    hinted = [n for n in holding if set(hints) & set(_normal(n).split())]
    return next(iter([*hinted, *holding]), None)


def _says_won_or_lost(values: list[str]) -> bool:
    return bool({"won", "lost"} & set(guess_outcome_values(values).values()))


def guess_outcome_column(sample: pl.DataFrame, taken: Iterable[str] = ()) -> str | None:
    """The column whose few values say won or lost ("Deal stage": Won, Lost, Engaging), one whose header
    says status, stage or outcome first; None when no column holds such values."""
    return _value_columns(sample, taken, MOST_OUTCOME_VALUES, OUTCOME_HEADER_HINTS, _says_won_or_lost)


# ---------------------------------------------------------------- the stage column

STAGE_HEADER_HINTS = ("lifecycle", "stage", "status")
# The words of a lifecycle stage or lead status, furthest stage first where a value holds several.
STAGE_WORDS: tuple[tuple[str, frozenset[str]], ...] = (
    ("lost", LOST_WORDS),
    ("won", WON_WORDS | {"customer", "customers", "evangelist"}),
    ("opportunity", frozenset({"opportunity", "opportunities", "opp", "deal"})),
    ("sql", frozenset({"sql", "sal"})),
    ("mql", frozenset({"mql"})),
    ("created", frozenset({"lead", "leads", "subscriber", "new", "raw", "other"})),
)
# Phrases, spaces removed: HubSpot writes "Marketing Qualified Lead" or "marketingqualifiedlead".
STAGE_PHRASES = {"salesqualified": "sql", "salesaccepted": "sql", "marketingqualified": "mql"}
MOST_STAGE_VALUES = 15


def guess_stage(value: str) -> str | None:
    """ "Marketing Qualified Lead" → mql, "Customer" → won, "Closed Lost" → lost; None for a value whose
    words name no stage ("Working", "Not converted")."""
    normal = _normal(value)
    words = set(normal.split())
    if "not" in words or "un" in words:
        return None
    compact = normal.replace(" ", "")
    for phrase, stage in STAGE_PHRASES.items():
        if phrase in compact:
            return stage
    return next((stage for stage, said in STAGE_WORDS if said & words), None)


def guess_stage_values(values: Iterable[str]) -> dict[str, str]:
    """Each value the words of which name a stage → that stage (the others are left to the person)."""
    guessed = {value: guess_stage(value) for value in values}
    return {value: stage for value, stage in guessed.items() if stage is not None}


def _names_stages(values: list[str]) -> bool:
    stages = [guess_stage(v) for v in values]
    return None not in stages and len(set(stages) - {"created"}) >= 2


def guess_stage_column(sample: pl.DataFrame, taken: Iterable[str] = ()) -> str | None:
    """The column every value of which names a stage, at least two of them past created (HubSpot's
    Lifecycle Stage: Subscriber, Lead, Marketing Qualified Lead, Customer), one whose header says
    lifecycle, stage or status first; None when no column reads that plainly (a guess that left a value
    unmapped would refuse the file)."""
    return _value_columns(sample, taken, MOST_STAGE_VALUES, STAGE_HEADER_HINTS, _names_stages)
