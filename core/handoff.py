"""The handoff's pure parts (issue 13): a rep's answer to an MQL, marketing's nurture list, the recycled
leads that came back, and how each rep answers.

A rep answers an MQL handed to them with one of three answers: *accept* (I am working it), *recycle*
(not now: a reason and a date to come back; the lead goes back to marketing's nurture list) or *reject*
(never: a reason). One answer is current per lead; every earlier one is kept in its history.

The answers frame (ANSWERS_SCHEMA, db/frames.py `load_answers`) holds every answer ever given, one row
each: the current ones (`current` true) and the earlier ones from the history, each with who gave it and
when (`answered_at`). `first_answered_at` is set on the current row: when the lead was first answered.

Definitions (docs/METRICS.md style):

- **Nurture list** of a period: the leads whose current answer is recycle or reject, answered in the
  period. A recycled lead is *waiting* until its come-back date, then *due back* (from that day on).
- **Returned**: a lead whose latest recycle answer's come-back date has been reached (on or before
  today) and that is an MQL again: its MQL moment is later than that recycle answer (marketing qualified
  it anew). A lead recycled twice is judged by its latest recycle only.
- **Recycled, returned and won**: returned leads whose outcome is won.
- **Answer shares** per rep or team: of the period's MQLs (by MQL moment) they own, how many were
  answered, and of the answered ones the share accepted, recycled and rejected (numerator: that answer;
  denominator: the answered MQLs).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from core.periods import Period

ACCEPT, RECYCLE, REJECT = "accept", "recycle", "reject"
ANSWER_LABEL: dict[str, str] = {
    ACCEPT: "Accepted",
    RECYCLE: "Recycled to marketing",
    REJECT: "Rejected",
}
# Offered on the card; the rep may type any other reason.
RECYCLE_REASONS: tuple[str, ...] = (
    "Not the right time",
    "No budget yet",
    "Still researching",
    "No answer yet",
    "Contract elsewhere until later",
)
REJECT_REASONS: tuple[str, ...] = (
    "Not a fit for us",
    "Student or job seeker",
    "Competitor",
    "Duplicate",
    "Fake or bad contact data",
)
COME_BACK_DAYS = 30  # the card's default come-back date, counted from today
MAX_REASON = 500

ANSWERS_SCHEMA: dict[str, pl.DataType] = {
    "lead_id": pl.Int64(),
    "answered_by": pl.Int64(),
    "answer": pl.String(),
    "reason": pl.String(),
    "come_back_on": pl.Date(),
    "answered_at": pl.Datetime("us"),
    "first_answered_at": pl.Datetime("us"),  # on the current row; null on the history's
    "current": pl.Boolean(),
}
NURTURE_SCHEMA: dict[str, pl.DataType] = {
    "lead_id": pl.Int64(),
    "answer": pl.String(),
    "status": pl.String(),  # "waiting", "due back" or "rejected"
    "reason": pl.String(),
    "come_back_on": pl.Date(),
    "answered_by": pl.Int64(),
    "answered_at": pl.Datetime("us"),
    "owner_id": pl.Int64(),
}


def empty_answers() -> pl.DataFrame:
    return pl.DataFrame(schema=ANSWERS_SCHEMA)


def current_answers(answers: pl.DataFrame) -> pl.DataFrame:
    return answers.filter(pl.col("current"))


def first_answers(answers: pl.DataFrame, leads: pl.DataFrame) -> pl.DataFrame:
    """Per lead: `first_answered_at`, its first answer at or after its MQL moment. An answer before it
    belongs to an earlier handoff (the lead was recycled and is an MQL again) and is no touch of this one."""
    times = pl.concat(
        [
            answers.select("lead_id", pl.col("answered_at").alias("at")),
            answers.select("lead_id", pl.col("first_answered_at").alias("at")),
        ]
    ).drop_nulls()
    return (
        times.join(leads.select(pl.col("id").alias("lead_id"), "mql_at"), on="lead_id", how="inner")
        .filter(pl.col("at") >= pl.col("mql_at"))
        .group_by("lead_id")
        .agg(pl.col("at").min().alias("first_answered_at"))
    )


def _status(today: date) -> pl.Expr:
    return (
        pl.when(pl.col("answer") == REJECT)
        .then(pl.lit("rejected"))
        .when(pl.col("come_back_on") <= today)
        .then(pl.lit("due back"))
        .otherwise(pl.lit("waiting"))
        .alias("status")
    )


def nurture_list(answers: pl.DataFrame, leads: pl.DataFrame, period: Period, today: date) -> pl.DataFrame:
    """The leads of `leads` answered recycle or reject in `period` (their current answer), newest answer
    first, with the reason, who answered, when, the come-back date and whether it is due back by `today`."""
    back = current_answers(answers).filter(
        pl.col("answer").is_in([RECYCLE, REJECT]) & period.contains("answered_at")
    )
    return (
        back.join(leads.select(pl.col("id").alias("lead_id"), "owner_id"), on="lead_id", how="inner")
        .with_columns(_status(today))
        .select(list(NURTURE_SCHEMA))
        .sort(["answered_at", "lead_id"], descending=[True, False])
        .cast(NURTURE_SCHEMA)  # type: ignore[arg-type]
    )


@dataclass(frozen=True)
class NurtureCounts:
    recycled: int
    waiting: int  # of the recycled, before their come-back date
    due_back: int  # of the recycled, on or past it
    rejected: int


def nurture_counts(nurture: pl.DataFrame) -> NurtureCounts:
    status = nurture.get_column("status")
    return NurtureCounts(
        recycled=int((nurture.get_column("answer") == RECYCLE).sum()),
        waiting=int((status == "waiting").sum()),
        due_back=int((status == "due back").sum()),
        rejected=int((status == "rejected").sum()),
    )


def returns(answers: pl.DataFrame, leads: pl.DataFrame, today: date) -> pl.DataFrame:
    """Every lead ever recycled, one row each, judged by its latest recycle answer: `recycled_at`,
    `come_back_on`, `returned` (the come-back date reached by `today` and an MQL again after the recycle)
    and `won` (returned, and won)."""
    latest = (
        answers.filter(pl.col("answer") == RECYCLE)
        .sort("answered_at")
        .group_by("lead_id")
        .agg(pl.col("answered_at").last().alias("recycled_at"), pl.col("come_back_on").last())
    )
    returned = ((pl.col("come_back_on") <= today) & (pl.col("mql_at") > pl.col("recycled_at"))).fill_null(
        False
    )
    return (
        latest.join(
            leads.select(
                pl.col("id").alias("lead_id"), "owner_id", "mql_at", "outcome", "closed_at", "amount"
            ),
            on="lead_id",
            how="inner",
        )
        .with_columns(returned.alias("returned"))
        .with_columns((pl.col("returned") & (pl.col("outcome") == "won").fill_null(False)).alias("won"))
        .sort("lead_id")
    )


@dataclass(frozen=True)
class ReturnCounts:
    recycled: int  # leads ever recycled
    returned: int  # of them, back as MQLs
    won: int  # of the returned, won


def return_counts(returned: pl.DataFrame) -> ReturnCounts:
    return ReturnCounts(
        recycled=returned.height,
        returned=int(returned.get_column("returned").sum()),
        won=int(returned.get_column("won").sum()),
    )


def came_back_and_won(returned: pl.DataFrame, period: Period) -> pl.DataFrame:
    """The returned leads won in `period` (by close date)."""
    return returned.filter(pl.col("won") & period.contains("closed_at"))


def answer_shares(
    answers: pl.DataFrame, leads: pl.DataFrame, period: Period, *, by: str = "owner_id"
) -> pl.DataFrame:
    """Per `by` (owner_id or team_id) of the period's MQLs: `mqls`, `answered`, `accepted`, `recycled`,
    `rejected`, and each answer's share of the answered (`accepted_share`...; null when none answered)."""
    answer = current_answers(answers).select("lead_id", "answer")
    mqls = leads.filter(period.contains("mql_at")).select(by, pl.col("id").alias("lead_id"))
    counts = (
        mqls.join(answer, on="lead_id", how="left")
        .group_by(by)
        .agg(
            pl.len().cast(pl.Int64).alias("mqls"),
            pl.col("answer").is_not_null().sum().cast(pl.Int64).alias("answered"),
            *(
                (pl.col("answer") == kind).sum().cast(pl.Int64).alias(name)
                for kind, name in ((ACCEPT, "accepted"), (RECYCLE, "recycled"), (REJECT, "rejected"))
            ),
        )
        .sort(by, nulls_last=True)
    )
    share = {
        f"{name}_share": pl.when(pl.col("answered") > 0).then(pl.col(name) / pl.col("answered"))
        for name in ("accepted", "recycled", "rejected")
    }
    return counts.with_columns(**share)
