"""Glossary: what every number means, what makes an MQL and what each side agreed to, all generated
from the same registry, criteria version and terms that the numbers on the other pages come from."""

import streamlit as st

from ui.auth import demo_banner, require_role
from ui.criteria import active_version, criteria_versions
from ui.glossary import (
    show_criteria_history,
    show_metrics,
    show_mql_definition,
    show_sla_history,
    show_sla_terms,
)
from ui.navigation import EVERYONE
from ui.sla import sla_terms

require_role(*EVERYONE)
st.title("Glossary")
demo_banner()
st.caption("Every word here is generated from what the numbers use, so the two cannot disagree.")
listed, terms = criteria_versions(), sla_terms()

st.header("Metrics")
show_metrics()
st.header("What makes an MQL")
show_mql_definition(active_version(listed))
st.header("SLA terms")
show_sla_terms(terms)
st.header("Criteria history")
show_criteria_history(listed)
st.header("SLA history")
show_sla_history(terms)
