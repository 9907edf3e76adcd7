"""The one registry of what every number means (docs/METRICS.md), shown as help beside each number."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricDefinition:
    key: str
    label: str
    definition: str


_ENTRIES: tuple[tuple[str, str, str], ...] = (
    (
        "traffic",
        "Website sessions",
        "Visits to the website in the period, from the daily traffic series (all channels). Sessions are "
        "visits, not people, so no conversion rate runs from them to leads.",
    ),
    ("leads", "Leads", "Leads created in the period (a flow count)."),
    (
        "stage_velocity",
        "Median days",
        "Stage velocity: for the leads that reached the later stage in the period, the median number of "
        "calendar days since they reached the earlier one.",
    ),
    (
        "mql",
        "MQLs",
        "Marketing qualified leads: leads whose score under the active criteria version reached its "
        "threshold, or that an import marks as MQL. Counted when they became MQL inside the period.",
    ),
    (
        "sql",
        "SQLs",
        "Sales qualified leads: MQLs that sales accepted (rated 4-5 stars, or moved to the stage by "
        "sales). Counted when accepted inside the period.",
    ),
    ("opportunity", "Opportunities", "Leads on which a deal was opened inside the period."),
    ("won", "Won deals", "Deals closed as won inside the period."),
    ("lost", "Lost deals", "Deals closed as lost inside the period."),
    ("revenue", "Revenue", "Sum of the amounts of deals won inside the period."),
    (
        "win_rate",
        "Win rate",
        "Won ÷ (won + lost) over deals closed inside the period. Open deals are not in it. "
        "Shown with won/closed and a 95% Wilson interval.",
    ),
    (
        "flow_count",
        "Flow count",
        "How many leads reached a stage inside the period. Never divide one flow count by another.",
    ),
    (
        "cohort_conversion",
        "Cohort conversion",
        "Of the leads that reached stage A inside the period, the share that reached stage B at any later "
        "time (or within N days when a window is chosen). Follows the same people.",
    ),
    ("mql_to_sql", "MQL → SQL", "Of the leads that became MQL in the period, the share sales accepted."),
    (
        "sql_to_opportunity",
        "SQL → opportunity",
        "Of the leads sales accepted in the period, the share on which a deal was opened.",
    ),
    (
        "opportunity_to_won",
        "Opportunity → won",
        "Of the deals opened in the period, the share that was won (so far).",
    ),
    ("mql_to_won", "MQL → won", "Of the leads that became MQL in the period, the share that was won."),
    (
        "quota_attainment",
        "Quota attainment",
        "Revenue ÷ quota for the quota periods that overlap the period, per rep, team and company.",
    ),
    (
        "pipeline_coverage",
        "Pipeline coverage",
        "Open opportunity amount ÷ the quota still to reach in the period.",
    ),
    (
        "marketing_sourced_share",
        "Marketing-sourced share",
        "Revenue (or pipeline) whose lead came from a marketing channel, over all revenue (or pipeline), "
        "with the count of deals behind it and its 95% interval. Every named source is a marketing channel "
        "except the ones sales brings in itself (outbound, sales, SDR, prospecting, cold calling, "
        "self-sourced, partner); a blank or unknown source counts in the total only.",
    ),
    (
        "pipeline_created",
        "Pipeline created",
        "Amount of the opportunities opened inside the period, whatever happened to them since.",
    ),
    (
        "open_pipeline",
        "Open pipeline",
        "Amount of every opportunity not yet closed, whenever it was opened.",
    ),
    (
        "revenue_target",
        "Revenue against target",
        "Revenue won inside the quota periods the chosen period falls in (a month's quota counts the whole "
        "month's deals), over the sum of those quotas: the company's, or the chosen team's.",
    ),
    (
        "leaderboard",
        "Leaderboard",
        "Reps ranked by quota attainment for the period; ties share a rank. A rep sees their own row and "
        "the others' rank and attainment, not their names.",
    ),
    (
        "sales_cycle",
        "Sales cycle",
        "Median calendar days from opportunity (or MQL where the data has no opportunity stage) to a won "
        "close, for deals won in the period.",
    ),
    (
        "mqls_delivered",
        "MQLs delivered",
        "MQLs of the period against marketing's commitment: the monthly number of the agreement spread "
        "over the period (a week is 12/52 of a month).",
    ),
    (
        "speed_to_lead",
        "Speed to lead",
        "Working hours (Monday to Friday, UTC) from MQL to the first sales touch: a logged activity, the "
        "first rating, the rep's first answer to the handoff (accept, recycle or reject), or a stage sales "
        "sets (SQL, opportunity). Shown as the median over the touched MQLs "
        "and the share followed up within the agreed hours, of the MQLs that can be judged: touched, or "
        "untouched past the agreed hours. A week is judged as it stood at the end of the next Monday.",
    ),
    (
        "sla_breach",
        "Breach",
        "An MQL that waited longer than the agreed working hours for its first touch: touched late, or "
        "not touched yet. Listed by the lead's owner.",
    ),
    (
        "handoff_answer",
        "Handoff answer",
        "A rep's answer to an MQL handed to them: accepted (I am working it), recycled to marketing (not "
        "now: a reason and a date to come back) or rejected (never: a reason). One answer is current per "
        "lead, earlier ones are kept with who gave them and when. Answer shares are of the answered MQLs.",
    ),
    (
        "back_to_marketing",
        "Back to marketing",
        "Leads whose current answer is recycle or reject, answered in the period, with the reason. A "
        "recycled lead is waiting until its come-back date, then due back.",
    ),
    (
        "came_back",
        "Came back",
        "A recycled lead whose come-back date has been reached and that is an MQL again: its MQL moment, "
        "as the CRM export or a re-score gives it, is later than the recycle answer. Came back and won: "
        "those whose deal was won.",
    ),
    (
        "mql_acceptance",
        "MQL acceptance",
        "Of the period's MQLs that sales rated, the share rated 4-5 stars (the mean of its current ratings "
        "when several people rated it). Unrated MQLs are not in it: they are sales' rating coverage, "
        "not marketing's quality.",
    ),
    (
        "rating_coverage",
        "Rating coverage",
        "Share of the period's MQLs that sales rated within the agreed number of days.",
    ),
    (
        "rated_quality",
        "Rated quality",
        "Mean star rating of a segment's leads and the share rated 4-5, with its interval and count.",
    ),
    (
        "content_used_share",
        "Content used",
        "Share of the live sales content (assets not archived) used on at least one lead or deal in the last "
        "90 days (today and the 89 days before), with used/live and a 95% Wilson interval. Never used: live "
        "assets nobody has logged a use of yet, with their age since they were added.",
    ),
    (
        "content_use",
        "Content use",
        "Uses logged in the last 90 days per team and per rep (one use per asset, lead and rep however often "
        "it is logged), with the distinct assets and the distinct leads they were used on.",
    ),
    (
        "content_helped",
        "Helped?",
        "Per asset: of its current helped? ratings (1-5 stars, one per asset, lead and rep), the share "
        "rated 4-5, with the count and a 95% Wilson interval; a small sample under 30 ratings.",
    ),
    (
        "content_stale",
        "Stale content",
        "Live assets that a current rating calls out of date (with how many do), or whose last review (the "
        "day it was added when it was never reviewed) is more than 180 days old.",
    ),
    (
        "content_requests",
        "Content requests",
        "Requests for missing content not yet answered (open, accepted or in progress), the most voted "
        "first, with their age in days since asked. Votes are other people's backing: the requester's own "
        "ask is not counted as a vote.",
    ),
    (
        "content_influence",
        "Influence on revenue",
        "Per asset: the win rate (won ÷ closed) of closed opportunities where it was used on the lead at or "
        "before the close, against closed opportunities where it was not, of the same segment (industry × "
        "company size, a missing value as unknown) and the same quarter the deal opened in. Only segments "
        "and quarters holding both count; the comparison's rate is weighted to the used deals' mix, with a "
        "95% interval by the normal approximation (clipped to 0-100%); the used rate has a Wilson interval. "
        "A small sample when either side has under 30 deals. Association, not proof: reps choose where to "
        "use an asset.",
    ),
    (
        "small_sample",
        "Small sample",
        "Fewer than 30 in the denominator: the rate is shown, but its interval is wide.",
    ),
    (
        "still_maturing",
        "Still maturing",
        "A recent cohort whose median time to the next stage has not yet passed: its rate will rise.",
    ),
)

DEFINITIONS: dict[str, MetricDefinition] = {
    key: MetricDefinition(key=key, label=label, definition=text) for key, label, text in _ENTRIES
}


def help_text(key: str) -> str:
    return DEFINITIONS[key].definition
