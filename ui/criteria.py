"""The Targeting criteria screen's reads, writes and sections: the version in force, the evidence and the
suggestion (cached for everyone, keyed by what they were learnt from), what-if editing with a live
backtest, and the sign-off of drafts."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import polars as pl
import streamlit as st

from core.attributes import CATALOGUE_SCHEMA, check_rules, entries, kinds, rule_problem
from core.criteria import (
    NUMBER_OPERATORS,
    OPERATORS,
    TEXT_OPERATORS,
    Criteria,
    Rule,
    attribute_label,
    missing_attributes,
)
from core.goals import DEFAULT_KEEP, Goal
from core.targeting import (
    backtest_rows,
    criteria_from_rows,
    evidence_rows,
    replay_evidence,
    rule_changes,
    rules_frame,
    suggestion_reasons,
    what_if,
)
from core.tuning import Tuning, compare_sentence
from db.criteria import (
    CriteriaRefused,
    VersionView,
    activation_dates,
    approve,
    comment,
    evidence_stamp,
    propose_version,
    reject,
    rollback_to,
    versions,
)
from db.engine import read_session
from db.models import Role, User
from db.tuning import (
    LearningData,
    NoCommitment,
    active_criteria,
    committed_per_month,
    load_learning_data,
    load_raters,
    load_ratings,
    tune_logged,
)
from ui.auth import CurrentUser
from ui.data import CACHE_SECONDS, forget_loaded_data, generation
from ui.db import act_as, database_url, engine
from ui.widgets import plain

WINDOW_DAYS = 90
WAIT_SECONDS = 2.0  # how long a page waits for a tuning before it shows it is still being learnt
POLL_SECONDS = 2.0
KEPT_TUNINGS = 4  # tunings kept per process: the newest data's, and a few a viewer may still be on
FLASH = "criteria_flash"
logger = logging.getLogger(__name__)
STATUS_WORDS = {"active": "in force", "retired": "retired", "rejected": "rejected", "draft": "draft"}


@dataclass(frozen=True)
class TuningKey:
    """What the suggestion was learnt from: small and hashable, the same for every viewer."""

    url: str
    active_version_id: int | None
    generation: int
    evidence: tuple[int, int, str]  # leads, ratings, last rating change
    window_days: int = WINDOW_DAYS
    goal: str | None = None  # core.goals.Goal's value; None: the default goal for the data
    keep: float = DEFAULT_KEEP


@dataclass(frozen=True)
class Targeting:
    tuning: Tuning
    evidence: pl.DataFrame  # every lead with `good`: what a what-if version is replayed on
    catalogue: pl.DataFrame  # every lead field and imported attribute (core.attributes.CATALOGUE_SCHEMA)


# ---------------------------------------------------------------- reads


def criteria_versions() -> list[VersionView]:
    with read_session(engine()) as session:
        return versions(session)


def active_version(listed: list[VersionView]) -> VersionView | None:
    return next((v for v in listed if v.status == "active"), None)


def tuning_key(active: VersionView | None, goal: Goal | None = None, keep: float = DEFAULT_KEEP) -> TuningKey:
    with read_session(engine()) as session:
        stamp = evidence_stamp(session)
    return TuningKey(
        database_url(), active.id if active else None, generation(), stamp,
        goal=goal.value if goal else None, keep=keep,
    )  # fmt: skip


GOAL_CHOICES: dict[str, str] = {
    "default": "The usual goal for this data",
    Goal.volume.value: "Keep the MQL volume",
    Goal.committed.value: "Hit the SLA's committed MQLs",
    Goal.wins.value: "Keep won deals with the fewest MQLs",
}
GOAL_HELP = (
    "What the suggested threshold pursues. The usual goal keeps the MQL volume when the version in force "
    "selects, and keeps 90% of won deals (and won revenue) with the fewest MQLs when no version is in force "
    "or it lets 90% of leads or more through."
)


def goal_picker() -> tuple[Goal | None, float]:
    """The goal both sides agree the suggestion pursues, and for *wins* the share of won deals to keep."""
    left, right = st.columns([2, 1])
    with left:
        picked = st.selectbox(
            "Goal of the suggestion", list(GOAL_CHOICES), format_func=GOAL_CHOICES.__getitem__,
            key="criteria_goal", help=GOAL_HELP,
        )  # fmt: skip
    goal = None if picked in (None, "default") else Goal(picked)
    keep = DEFAULT_KEEP
    if goal is Goal.wins:
        with right:
            percent = st.slider(
                "Share of won deals to keep", 50, 100, 90, step=5, format="%d%%", key="criteria_keep"
            )
            keep = percent / 100
    return goal, keep


LearningStamp = tuple[str, int, int]  # the database, ui.data.generation(), how many leads


class LearningCache:
    """The leads last read for a tuning (with every attribute and the catalogue), kept by their stamp and
    for at most `max_age` seconds, as the frames are: at a million leads reading them is most of a tuning
    (tens of seconds against a few), and a new goal, a new rating or another version in force tunes again
    on the same leads. An import, an approval or a seed moves the generation and reads them afresh."""

    def __init__(
        self,
        load: Callable[[], LearningData],
        max_age: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load, self._max_age, self._clock = load, max_age, clock
        self._kept: tuple[LearningStamp, float, LearningData] | None = None
        self._lock = threading.Lock()

    def get(self, stamp: LearningStamp) -> LearningData:
        with self._lock:
            kept = self._kept
            if kept is not None and kept[0] == stamp and self._clock() - kept[1] < self._max_age:
                return kept[2]
            self._kept = None  # the old leads go before the new ones are read: one copy at a time
            data = self._load()
            self._kept = (stamp, self._clock(), data)
            return data


def learn_targeting(key: TuningKey, cache: LearningCache | None = None) -> Targeting | None:
    """The tuning of the version in force on all the data (its leads from `cache` when given); None when
    there are no leads to learn from."""
    stamp = (key.url, key.generation, key.evidence[0])
    learning = cache.get(stamp) if cache is not None else load_learning_data(engine())
    leads = learning.leads
    if leads.is_empty() or leads["created_at"].is_null().all():
        return None
    ratings, raters = load_ratings(engine()), load_raters(engine())
    current = active_criteria(engine()) or Criteria(rules=(), threshold=0)
    goal = Goal(key.goal) if key.goal else None
    committed = committed_per_month(engine()) if goal is Goal.committed else None
    tuning = tune_logged(
        leads, ratings, raters, current, window_days=key.window_days, goal=goal, keep=key.keep,
        committed=committed, features=learning.features,
    )  # fmt: skip
    return Targeting(tuning, replay_evidence(leads, ratings, raters), learning.catalogue)


class TuningJobs:
    """One tuning per TuningKey for the whole process, learnt on a worker thread: the first viewer of new
    data starts it, every viewer shares it, and no page waits on it for longer than WAIT_SECONDS (at a
    million leads a tuning takes seconds; the page shows the version in force meanwhile).

    The lead-level evidence is as long as the leads; polars frames are never changed in place, so one
    shared copy is safe (see ui/data.py)."""

    def __init__(self, learn: Callable[[TuningKey], Targeting | None], keep: int = KEPT_TUNINGS) -> None:
        self._learn, self._keep = learn, keep
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="huddle-tuning")
        self._jobs: dict[TuningKey, Future[Targeting | None]] = {}
        self._lock = threading.Lock()

    def job(self, key: TuningKey) -> Future[Targeting | None]:
        with self._lock:
            found = self._jobs.get(key)
            if found is None or (found.done() and found.exception() is not None):  # a failure is retried
                found = self._pool.submit(self._learn, key)
                self._jobs[key] = found
            self._jobs = dict(list(self._jobs.items())[-self._keep :])
            return found

    def clear(self) -> None:
        with self._lock:
            self._jobs.clear()


@st.cache_resource(show_spinner=False)
def tuning_jobs() -> TuningJobs:
    cache = LearningCache(lambda: load_learning_data(engine()))
    return TuningJobs(lambda key: learn_targeting(key, cache))


@dataclass(frozen=True)
class Learning:
    """Where the page's tuning stands: ready (data, None when there is nothing to learn from), still
    being learnt, or failed with a message fit to show."""

    ready: bool
    data: Targeting | None = None
    problem: str | None = None


def targeting_data(key: TuningKey, wait_seconds: float | None = None) -> Learning:
    job = tuning_jobs().job(key)
    try:
        return Learning(True, job.result(timeout=WAIT_SECONDS if wait_seconds is None else wait_seconds))
    except FutureTimeout:
        return Learning(False)
    except NoCommitment as error:
        return Learning(True, None, f"{error}, or pick another goal.")
    except Exception as error:  # shown on the page and logged; the next viewer tries again
        logger.exception("tuning failed for %s", key)
        return Learning(True, None, f"The suggestion could not be learnt: {error}")


@st.fragment(run_every=POLL_SECONDS)
def learning_notice(key: TuningKey) -> None:
    """Shown while the tuning is learnt; reruns the page once it is ready."""
    if tuning_jobs().job(key).done():
        st.rerun()
    st.info(
        "Learning the suggestion from every lead, rating and outcome… the version in force is above; the "
        "evidence, the suggestion and the backtests appear here in a few seconds.",
        icon=":material/hourglass_top:",
    )


# ---------------------------------------------------------------- writes


def _write(user: CurrentUser, call: Callable[[Any, User], object]) -> str | None:
    """Do one service call as the signed-in person; None when done, else what to tell them."""
    problem = act_as(user.id, call, (CriteriaRefused,)).refused
    if problem:
        return problem
    forget_loaded_data()  # an approval re-scores leads: every page's numbers load afresh
    return None


def _done(problem: str | None, message: str) -> None:
    if problem:
        st.error(problem, icon=":material/block:")
        return
    st.session_state[FLASH] = message
    st.rerun()


def show_flash() -> None:
    message = st.session_state.pop(FLASH, None)
    if message:
        st.success(str(message), icon=":material/check_circle:")


# ---------------------------------------------------------------- the version in force


def _day(moment: datetime | None) -> str:
    return "—" if moment is None else f"{moment:%b %d, %Y}"


def _sentences(criteria: Criteria) -> None:
    st.markdown("\n".join(f"- {plain(sentence)}" for sentence in criteria.describe()))


def show_active(active: VersionView | None) -> None:
    if active is None:
        st.info(
            "No criteria version is in force yet, so no lead is scored. A marketer proposes the first "
            "version below; it is in force once a sales manager approves it.",
            icon=":material/rule:",
        )
        return
    st.subheader(f"In force: version {active.number}")
    st.caption(
        f"Proposed by {plain(active.proposed_by or 'the command line')} on {_day(active.proposed_at)} · "
        f"approved by {plain(active.approved_by or '—')} on {_day(active.approved_at)} · "
        f"in force since {_day(active.activated_at)}"
    )
    _sentences(active.criteria)
    if active.rationale:
        st.markdown(f"**Why:** {plain(active.rationale)}")


# ---------------------------------------------------------------- evidence and suggestion


def show_evidence(data: Targeting | None) -> None:
    if data is None or data.tuning.evidence.is_empty():
        st.info(
            "No evidence yet: it grows as sales rates MQLs (Rate my leads) and deals are won or lost.",
            icon=":material/hourglass_empty:",
        )
        return
    tuning = data.tuning
    st.caption(
        f"What sales said about the leads created before {tuning.learn_until:%b %d, %Y}: a lead is good when "
        "it was rated 4-5 stars (ratings calibrated for harsh and kind raters) or, unrated, won. Values seen "
        "on fewer than 30 such leads are thin evidence: shown, never acted on."
    )
    st.dataframe(
        evidence_rows(tuning.evidence),
        hide_index=True,
        width="stretch",
        height=320,
        column_config={
            "Lift": st.column_config.NumberColumn(format="%.2f×", help="share good ÷ the average lead's"),
        },
    )


def show_missing_attributes(active: VersionView | None, data: Targeting | None) -> None:
    """A rule of the version in force whose attribute no lead has any more scores 0: say so, by name."""
    if active is None or data is None:
        return
    present = data.catalogue.filter(pl.col("filled") > 0)["name"].to_list()
    for name in missing_attributes(active.criteria, present):
        st.warning(
            f"The version in force has a rule on {plain(attribute_label(name))}, which no lead has any more "
            "(a later import no longer carries it): that rule scores 0 until the attribute comes back or a "
            "new version drops it.",
            icon=":material/report:",
        )


def show_attributes(data: Targeting | None) -> None:
    if data is None or data.catalogue.is_empty():
        return
    with st.expander(f"Every field and attribute Huddle has seen ({data.catalogue.height})"):
        st.caption(
            "Rules may use any of them except ids, emails and free text (nearly every lead has its own "
            "value) and what is recorded only with the sale. Under 30 leads or 5% with a value is thin."
        )
        st.dataframe(attribute_table(data.catalogue), hide_index=True, width="stretch")


def show_suggestion(data: Targeting | None) -> None:
    if data is None or data.tuning.evidence.is_empty():
        st.caption("No suggestion until there is evidence to learn from.")
        return
    tuning = data.tuning
    st.markdown(f"**{plain(tuning.summary())}**")
    st.caption(
        f"Both versions replayed on the leads created from {tuning.learn_until:%b %d, %Y} to "
        f"{tuning.test_until:%b %d, %Y} (not used to learn)."
    )
    st.dataframe(backtest_rows(tuning.before, tuning.after), hide_index=True, width="stretch")
    changes, reasons = rule_changes(tuning.current, tuning.proposed), suggestion_reasons(tuning)
    left, right = st.columns(2)
    with left:
        st.markdown("**What it changes**")
        st.markdown(
            "\n".join(f"- {plain(c)}" for c in changes) or "Nothing: the evidence backs the version in force."
        )
    with right:
        st.markdown("**Why**")
        st.markdown(
            "\n".join(f"- {plain(r)}" for r in reasons) or "No value stands out from the average lead."
        )


# ---------------------------------------------------------------- what-if editing (marketers)

START_FROM = {"suggestion": "The suggestion", "current": "The version in force"}


def _offered(catalogue: pl.DataFrame, base: Criteria) -> list[str]:
    """The attributes a rule may pick: every one the catalogue offers, then any the version already reads
    (kept so that editing it does not silently drop a rule; the check below names what is wrong)."""
    offered = catalogue.filter(pl.col("offered"))["name"].to_list()
    return list(dict.fromkeys([*offered, *base.attributes()]))


def _labels(catalogue: pl.DataFrame) -> dict[str, str]:
    return dict(zip(catalogue["name"].to_list(), catalogue["label"].to_list(), strict=True))


def _operator_label(value: object) -> str:
    return OPERATORS.get(str(value), str(value))


def _edited_rules(base: Criteria, start: str, catalogue: pl.DataFrame) -> Criteria | None:
    labels = _labels(catalogue)
    edited = st.data_editor(
        rules_frame(base),
        key=f"whatif_rules_{start}",
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
        column_config={
            "attribute": st.column_config.SelectboxColumn(
                "Attribute",
                options=_offered(catalogue, base),
                format_func=lambda name: labels.get(str(name)) or attribute_label(str(name)),
                required=True,
                help="every lead field and imported attribute usable in rules (see Values in the data)",
            ),
            "operator": st.column_config.SelectboxColumn(
                "Operator", options=list(OPERATORS), format_func=_operator_label, required=True,
                help="text: is, is not, is one of; numbers: is at least, is at most, is between",
            ),
            "value": st.column_config.TextColumn(
                "Value", help="several values: separate them with commas; a band: 60 - 300"
            ),
            "points": st.column_config.NumberColumn("Points", step=1, required=True),
        },
    )  # fmt: skip
    threshold = st.number_input(
        "Threshold (points for an MQL)", value=base.threshold, step=1, key=f"whatif_threshold_{start}"
    )
    try:
        criteria = criteria_from_rows(pl.DataFrame(edited).to_dicts(), int(threshold), kinds(catalogue))
    except ValueError as error:
        st.warning(f"{error}. Fix the rule to see its backtest.", icon=":material/edit:")
        return None
    problems = check_rules(criteria, catalogue)
    if problems:
        st.warning(
            "  \n".join(plain(p) for p in problems) + "  \nFix the rule to see its backtest.",
            icon=":material/edit:",
        )
        return None
    return criteria


TEXT_CHOICES = {op: OPERATORS[op] for op in TEXT_OPERATORS}
NUMBER_CHOICES = {op: OPERATORS[op] for op in NUMBER_OPERATORS}


def _added_key(start: str) -> str:
    return f"whatif_added_{start}"


def added_rules(start: str) -> tuple[Rule, ...]:
    """The rules added with the builder below the table, each with a button that takes it out again."""
    kept: list[Rule] = list(st.session_state.get(_added_key(start), []))
    for index, rule in enumerate(kept):
        text, remove = st.columns([6, 1], vertical_alignment="center")
        text.markdown(f"Added: {plain(rule.describe())}")
        if remove.button("Remove", key=f"whatif_remove_{start}_{index}", icon=":material/close:"):
            st.session_state[_added_key(start)] = kept[:index] + kept[index + 1 :]
            st.rerun()
    return tuple(kept)


def _text_value(operator: str, examples: list[str], key: str) -> object:
    if operator == "in":
        return st.multiselect("Values", examples, key=f"{key}_values", accept_new_options=True,
                              placeholder="Pick or type values")  # fmt: skip
    return st.selectbox("Value", examples, key=f"{key}_value", index=None, accept_new_options=True,
                        placeholder="Pick or type a value")  # fmt: skip


def _as_float(examples: list[str], index: int, default: float = 0.0) -> float:
    try:
        return float(examples[index].replace(",", ""))
    except (IndexError, ValueError):
        return default


def _number_value(operator: str, examples: list[str], key: str) -> object:
    """Numbers start where the data is: its median, or its lower and upper quartiles for a band
    (a number's examples are its lowest, quartiles and highest)."""
    middle = _as_float(examples, len(examples) // 2)
    if operator != "between":
        return st.number_input("Value", value=middle, key=f"{key}_number")
    low, high = st.columns(2)
    return [
        low.number_input("From", value=_as_float(examples, 1, middle), key=f"{key}_from"),
        high.number_input("To", value=_as_float(examples, -2, middle), key=f"{key}_to"),
    ]


def _whole(value: object) -> object:
    """60.0 as 60: the number a person typed, as a rule reads it."""
    if isinstance(value, list):
        return [_whole(v) for v in value]
    return int(value) if isinstance(value, float) and value.is_integer() else value


def rule_builder(catalogue: pl.DataFrame, start: str) -> None:
    """Add a rule on any usable field or attribute, its values offered from the data: the operators its
    kind allows, the most common text values (or type another), or numbers starting at its median."""
    offered = catalogue.filter(pl.col("offered"))
    if offered.is_empty():
        return
    labels, found = _labels(offered), entries(offered)
    key = f"whatif_builder_{start}"
    with st.container(border=True):
        st.markdown("**Add a rule**")
        cells = st.columns([3, 2, 3, 2], vertical_alignment="bottom")
        with cells[0]:
            name = st.selectbox("Field or attribute", offered["name"].to_list(), key=f"{key}_attribute",
                                format_func=lambda n: labels.get(str(n), str(n)))  # fmt: skip
        entry = found[str(name)]
        number = entry["kind"] == "number"
        choices = NUMBER_CHOICES if number else TEXT_CHOICES
        with cells[1]:
            operator = st.selectbox("Rule", list(choices), format_func=choices.__getitem__,
                                    key=f"{key}_operator_{entry['kind']}")  # fmt: skip
        examples = [str(e) for e in entry["examples"] or []]
        with cells[2]:
            value = (_number_value if number else _text_value)(
                str(operator), examples, f"{key}_{name}_{operator}"
            )
        with cells[3]:
            points = st.number_input("Points", value=10, step=1, key=f"{key}_points")
        if entry["thin"]:
            st.caption(f"{plain(str(entry['label']))} is thin evidence: few leads have a value.")
        if not st.button("Add rule", key=f"{key}_add", icon=":material/add:"):
            return
    try:
        rule = Rule(str(name), str(operator), _whole(value), int(points))
    except ValueError as error:
        st.warning(f"{error}.", icon=":material/edit:")
        return
    problem = rule_problem(rule, entry) if value not in (None, [], "") else "Pick or type a value first"
    if problem:
        st.warning(f"{problem}.", icon=":material/edit:")
        return
    st.session_state[_added_key(start)] = [*st.session_state.get(_added_key(start), []), rule]
    st.rerun()


def values_in_the_data(catalogue: pl.DataFrame) -> None:
    """What each attribute holds, to write a rule's value from: its kind, how many leads have it, and its
    values (the most common text values; a number's range and quartiles)."""
    if catalogue.is_empty():
        return
    labels = _labels(catalogue)
    with st.expander("Values in the data", icon=":material/dataset:"):
        name = st.selectbox(
            "Attribute", catalogue["name"].to_list(), format_func=lambda n: labels.get(str(n), str(n)),
            key="whatif_values_of",
        )  # fmt: skip
        entry = entries(catalogue)[str(name)]
        kind = "numbers" if entry["kind"] == "number" else "text"
        st.caption(
            f"{plain(str(entry['label']))} holds {kind}: {entry['filled']:,} leads have a value "
            f"({entry['fill_rate']:.0%}), {entry['distinct']:,} distinct."
            + (" Thin evidence: few leads have it." if entry["thin"] else "")
        )
        if not entry["offered"]:
            st.info(f"Not offered for rules: {plain(str(entry['reason']))}.", icon=":material/block:")
        examples = list(entry["examples"] or [])
        if examples:
            heading = "Lowest, quartiles and highest" if entry["kind"] == "number" else "Most common values"
            st.markdown(f"**{heading}:** " + ", ".join(f"`{plain(e)}`" for e in examples))


def attribute_table(catalogue: pl.DataFrame) -> pl.DataFrame:
    """The catalogue in the page's words: every attribute, usable or not, and why not."""
    return catalogue.select(
        pl.col("label").alias("Attribute"),
        pl.col("kind").replace_strict({"number": "numbers", "text": "text"}, default="text").alias("Holds"),
        (pl.col("fill_rate") * 100).round(0).cast(pl.Int64).alias("Leads with a value (%)"),
        pl.col("distinct").alias("Distinct values"),
        pl.when(pl.col("offered"))
        .then(pl.when(pl.col("thin")).then(pl.lit("yes (thin evidence)")).otherwise(pl.lit("yes")))
        .otherwise(pl.lit("no: ") + pl.col("reason"))
        .alias("Usable in rules"),
    )


def what_if_editor(user: CurrentUser, data: Targeting | None, active: VersionView | None) -> None:
    current = active.criteria if active else Criteria(rules=(), threshold=0)
    suggested = data.tuning.proposed if data is not None else current
    start = (
        st.segmented_control(
            "Start from",
            list(START_FROM),
            format_func=START_FROM.__getitem__,
            default="suggestion",
            key="whatif_start",
        )
        or "suggestion"
    )
    catalogue = data.catalogue if data is not None else pl.DataFrame(schema=CATALOGUE_SCHEMA)
    in_table = _edited_rules(suggested if start == "suggestion" else current, start, catalogue)
    added = added_rules(start)
    rule_builder(catalogue, start)
    values_in_the_data(catalogue)
    if in_table is None:
        return
    edited = Criteria(rules=(*in_table.rules, *added), threshold=in_table.threshold)
    if data is not None:
        st.markdown("**Your version against the one in force**, on the same test window")
        mine = what_if(data.evidence, data.tuning, edited)
        st.markdown(
            f"Your version: {plain(compare_sentence(data.tuning.before, mine))} ({mine.mql_count:,} MQLs)"
        )
        st.dataframe(
            backtest_rows(data.tuning.before, mine, ("In force", "Your version")),
            hide_index=True,
            width="stretch",
        )
    changes = rule_changes(current, edited)
    st.markdown("\n".join(f"- {plain(c)}" for c in changes) or "No change from the version in force.")
    propose_form(user, edited, active)


def propose_form(user: CurrentUser, edited: Criteria, active: VersionView | None) -> None:
    with st.form("propose_form", border=False):
        rationale = st.text_area(
            "Why this change (the rationale the sales managers read)",
            max_chars=4000,
            key="propose_rationale",
            height=90,
        )
        sent = st.form_submit_button("Propose", type="primary", icon=":material/send:")
    if not sent:
        return
    if not rationale.strip():
        st.warning("Write the rationale first: the sales managers decide on it.", icon=":material/edit:")
        return
    based_on = active.id if active else None
    problem = _write(
        user,
        lambda s, a: propose_version(
            session=s,
            actor=a,
            rules=edited.rules,
            threshold=edited.threshold,
            rationale=rationale,
            based_on_id=based_on,
        ),
    )
    _done(problem, "Proposed as a draft. A sales manager approves it before it is in force.")


# ---------------------------------------------------------------- drafts and sign-off


def _comments(version: VersionView) -> None:
    for said in version.comments:
        kind = {"reject": " rejected it", "approve": " approved it"}.get(said.kind, "")
        st.caption(f"{plain(said.author)}{kind}, {said.at:%b %d %H:%M} UTC:")
        st.text(said.text)


def _review_form(user: CurrentUser, draft: VersionView) -> None:
    with st.form(f"review_{draft.id}", border=False):
        text = st.text_area(
            "Comment, or the reason to reject", max_chars=4000, key=f"review_text_{draft.id}", height=80
        )
        cells = st.columns(3)
        said = cells[0].form_submit_button("Comment", icon=":material/chat:")
        rejected = cells[1].form_submit_button("Reject with this reason", icon=":material/block:")
        approved = (
            cells[2].form_submit_button(
                "Approve and put in force", type="primary", icon=":material/verified:"
            )
            if user.role == Role.sales_manager
            else False
        )
    if approved:
        _done(
            _write(user, lambda s, a: approve(session=s, actor=a, version_id=draft.id)),
            f"Version {draft.number} is in force.",
        )
    elif (said or rejected) and not text.strip():
        st.warning("Write the comment or the reason first.", icon=":material/edit:")
    elif said:
        _done(
            _write(user, lambda s, a: comment(session=s, actor=a, version_id=draft.id, text=text)),
            "Comment added.",
        )
    elif rejected:
        _done(
            _write(user, lambda s, a: reject(session=s, actor=a, version_id=draft.id, reason=text)),
            f"Version {draft.number} was rejected.",
        )


def _draft_backtest(data: Targeting | None, draft: VersionView) -> None:
    if data is None:
        return
    mine = what_if(data.evidence, data.tuning, draft.criteria)
    st.dataframe(
        backtest_rows(data.tuning.before, mine, ("In force", f"Version {draft.number}")),
        hide_index=True,
        width="stretch",
    )


def drafts_section(
    user: CurrentUser, listed: list[VersionView], active: VersionView | None, data: Targeting | None
) -> None:
    drafts = [v for v in listed if v.status == "draft"]
    if not drafts:
        st.caption("No draft waits for sign-off.")
        return
    current = active.criteria if active else Criteria(rules=(), threshold=0)
    for draft in drafts:
        with st.container(border=True):
            st.markdown(
                f"**Version {draft.number}**, proposed by {plain(draft.proposed_by or 'the command line')}"
                f" on {_day(draft.proposed_at)}"
            )
            st.markdown(f"**Why:** {plain(draft.rationale or '')}")
            changes = rule_changes(current, draft.criteria)
            st.markdown("\n".join(f"- {plain(c)}" for c in changes) or "The same as the version in force.")
            _draft_backtest(data, draft)
            with st.expander("All its rules"):
                _sentences(draft.criteria)
            _comments(draft)
            if user.role in (Role.marketer, Role.sales_manager):
                _review_form(user, draft)


# ---------------------------------------------------------------- history and rollback


def history_table(listed: list[VersionView]) -> pl.DataFrame:
    done = [v for v in listed if v.status != "draft"]
    return pl.DataFrame(
        {
            "Version": [v.number for v in done],
            "Status": [STATUS_WORDS.get(v.status, v.status) for v in done],
            "Proposed by": [v.proposed_by or "command line" for v in done],
            "Approved by": [v.approved_by or "—" for v in done],
            "In force from": [_day(v.activated_at) for v in done],
            "Until": [_day(v.retired_at) if v.retired_at else "" for v in done],
            "Rationale": [v.rationale or "" for v in done],
        },
        schema={
            "Version": pl.Int64,
            **{
                c: pl.String
                for c in ("Status", "Proposed by", "Approved by", "In force from", "Until", "Rationale")
            },
        },
    )


def _rollback_form(user: CurrentUser, version: VersionView) -> None:
    with st.form(f"rollback_{version.id}", border=False):
        why = st.text_input("Why go back to it", max_chars=4000, key=f"rollback_why_{version.id}")
        sent = st.form_submit_button("Propose rollback to this version", icon=":material/undo:")
    if not sent:
        return
    if not why.strip():
        st.warning("Write why first: the sales managers decide on it.", icon=":material/edit:")
        return
    problem = _write(user, lambda s, a: rollback_to(session=s, actor=a, version_id=version.id, rationale=why))
    _done(problem, f"Proposed a copy of version {version.number} as a draft.")


def history_section(user: CurrentUser, listed: list[VersionView]) -> None:
    table = history_table(listed)
    if table.is_empty():
        st.caption("No version has been signed off yet.")
        return
    st.dataframe(table, hide_index=True, width="stretch")
    for version in (v for v in listed if v.status in ("retired", "rejected")):
        with st.expander(f"Version {version.number} ({STATUS_WORDS[version.status]})"):
            _sentences(version.criteria)
            _comments(version)
            if user.role == Role.marketer and version.status == "retired":
                _rollback_form(user, version)


# ---------------------------------------------------------------- for trend charts


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _activations(url: str, generation: int) -> list[tuple[date, int]]:
    with read_session(engine()) as session:
        return activation_dates(session)


def criteria_activations() -> list[tuple[date, int]]:
    """(day, version number) of every criteria version that came into force, for marking trend charts.
    An approval clears the caches, so a new version shows at once."""
    return _activations(database_url(), generation())
