"""Overview: this month so far against the same days of last month (in a month's first days, the last
complete month against the one before), for both teams."""

import streamlit as st

from core.charts import weekly_flow_chart
from core.kpis import headline, records_losses
from core.periods import headline_months, month_is_young
from core.trends import last_complete_week_end, latest_event_day, weekly_flow
from ui import clock
from ui.auth import demo_banner
from ui.data import leads
from ui.widgets import count_metric, money_metric, rate_metric

st.title("Overview")
demo_banner()
frame = leads()
last_event = latest_event_day(frame)
if last_event is None:
    st.info(
        "No leads yet. An admin can import a CRM export, or run `python -m db seed --demo` "
        "to try Huddle with a made-up company.",
        icon=":material/inbox:",
    )
    st.stop()

today = clock.today()
anchor = min(today, last_event)
this_period, last_period = headline_months(anchor)
now, before = headline(frame, this_period, today=today), headline(frame, last_period, today=today)
if month_is_young(anchor):
    st.caption(
        f"{this_period.label} against {last_period.label}: {anchor:%B} has only begun, so this is the last "
        "complete month."
    )
else:
    st.caption(f"{this_period.label} against {last_period.label} — the same days of each month.")
if anchor < today:
    st.caption(f"This data ends on {anchor:%B %d, %Y}, so the comparison is for its last month.")

row = st.columns(3)
with row[0]:
    count_metric("Leads", "leads", now.stages["leads"], before.stages["leads"])
with row[1]:
    count_metric("MQLs", "mql", now.stages["mql"], before.stages["mql"])
with row[2]:
    count_metric("SQLs", "sql", now.stages["sql"], before.stages["sql"])
row = st.columns(3)
with row[0]:
    count_metric("Won deals", "won", now.stages["won"], before.stages["won"])
with row[1]:
    money_metric("Revenue", "revenue", now.revenue, before.revenue)
with row[2]:
    rate_metric("Win rate", "win_rate", now.win_rate, before.win_rate, recorded=records_losses(frame))

weekly = weekly_flow(frame, last_day=last_complete_week_end(anchor), weeks=13)
st.plotly_chart(
    weekly_flow_chart(weekly, "Leads, MQLs and won deals per week, last 13 complete weeks"),
    width="stretch",
    config={"displayModeBar": False},
)
