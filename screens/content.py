"""Content: marketing's sales content for everyone. The library (search, filters, each asset's link or file,
its versions and who used it; a rep logs its use on one of their leads and rates whether it helped), the
content that fits one of my leads, marketing's adding and keeping of assets, and requests for what is
missing (votes, age, marketing's answer)."""

import streamlit as st

from ui.auth import demo_banner, require_role
from ui.content import (
    add_asset_section,
    archived_section,
    library_section,
    manages,
    my_lead_section,
    requests_section,
    uses,
)
from ui.navigation import EVERYONE

user = require_role(*EVERYONE)
st.title("Content")
demo_banner()
names = ["Library", *(["For my lead"] if uses(user) else []), *(["Add an asset"] if manages(user) else []),
         "Requests"]  # fmt: skip
tabs = dict(zip(names, st.tabs(names), strict=True))
with tabs["Library"]:
    library_section(user)
if "For my lead" in tabs:
    with tabs["For my lead"]:
        my_lead_section(user)
if "Add an asset" in tabs:
    with tabs["Add an asset"]:
        add_asset_section(user)
        archived_section(user)
with tabs["Requests"]:
    requests_section(user)
