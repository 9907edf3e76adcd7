"""First guesses for an import mapping, worked out by hand on tiny exports: a header proposes, the values
decide."""

from __future__ import annotations

import polars as pl

from core.column_guess import (
    attribute_candidates,
    attribute_key,
    attribute_keys,
    column_kind,
    guess_mapping,
    guess_outcome,
    guess_outcome_column,
    guess_stage,
    guess_stage_column,
    guess_stars,
    guessed_columns,
    holds_stars,
    kept_attributes,
    profile_columns,
    without_empty_words,
)


def test_a_yes_no_column_whose_header_says_amount_is_not_the_amount() -> None:
    sample = pl.DataFrame(
        {
            "Record ID": ["1", "2", "3", "4"],
            "email_consent_amount": ["Yes", "No", "Yes", "Yes"],
            "Deal Value (EUR)": ["1.200,50", "300", "", "40"],
        }
    )
    assert guessed_columns(sample.columns)["amount"] == "email_consent_amount", "the header alone"
    assert guess_mapping(sample)["amount"] == "Deal Value (EUR)"


def test_no_amount_is_guessed_when_only_a_yes_no_column_says_amount() -> None:
    sample = pl.DataFrame({"Record ID": ["1", "2"], "Consent amount": ["true", "false"]})
    assert "amount" not in guess_mapping(sample)


def test_a_column_of_unique_ids_is_the_record_id_even_where_another_header_says_lead_id() -> None:
    # "Lead ID" repeats (the company's lead, shared by its contacts): it cannot identify a row.
    sample = pl.DataFrame(
        {
            "Lead ID": ["L-1", "L-1", "L-2"],
            "Owner": ["Ann", "Bo", "Ann"],
            "Record ID": ["9001", "9002", "9003"],
        }
    )
    guesses = guess_mapping(sample)
    assert guesses["external_id"] == "Record ID"
    assert guesses["owner"] == "Owner"


def test_a_unique_column_whose_header_says_id_in_any_spelling_is_the_record_id() -> None:
    assert guess_mapping(pl.DataFrame({"recordId": ["a1", "a2", "a3"]})) == {"external_id": "recordId"}
    assert guess_mapping(pl.DataFrame({"Contact ID": ["7", "8"]})) == {"external_id": "Contact ID"}


def test_without_an_id_header_a_column_of_unique_codes_is_the_record_id() -> None:
    sample = pl.DataFrame({"Name": ["Ann", "Bo", "Cy"], "Key": ["00Q1", "00Q2", "00Q3"]})
    assert guess_mapping(sample) == {"external_id": "Key"}


def test_dates_must_read_as_dates_and_a_blank_column_contradicts_nothing() -> None:
    sample = pl.DataFrame(
        {
            "id": ["1", "2", "3"],
            "Created By": ["Ann Lee", "Bo Chan", "Ann Lee"],  # "created" in a header of names
            "Lead created on": ["03/01/2026", "03/02/2026", "03/03/2026"],
            "Close Date": ["", "", ""],
        }
    )
    assert guessed_columns(sample.columns)["created_date"] == "Created By", "the header alone"
    guesses = guess_mapping(sample)
    assert guesses["created_date"] == "Lead created on"
    assert guesses["close_date"] == "Close Date"


def test_well_named_columns_are_guessed_as_the_header_alone_guesses_them() -> None:
    sample = pl.DataFrame(
        {
            "Lead ID": ["L1", "L2", "L3"],
            "Create Date": ["2026-01-02", "2026-01-03", "2026-01-04 10:30"],
            "Lead Source": ["Webinar", "Ads", "Webinar"],
            "Lead Owner": ["ann@x.com", "bo@x.com", "ann@x.com"],
            "Amount": ["$1,200", "0", "75.5"],
            "Industry": ["Retail", "Retail", "Banking"],
            "No. of Employees": ["11-50", "250", "1-10"],
        }
    )
    assert guess_mapping(sample) == guessed_columns(sample.columns)


def test_counts_must_be_whole_numbers_and_owners_few() -> None:
    people = [f"Person {n}" for n in range(60)]
    sample = pl.DataFrame(
        {
            "id": [str(n) for n in range(60)],
            "Page views": ["3.5"] * 60,
            "Email clicks": ["0", "1"] * 30,
            "Owner": people,  # 60 people for 60 leads: a contact name, not a sales rep
        }
    )
    guesses = guess_mapping(sample)
    assert "page_views" not in guesses and guesses["email_clicks"] == "Email clicks"
    assert "owner" not in guesses


def test_each_kind_of_column_is_told_from_its_values() -> None:
    assert column_kind("Amount", pl.Series(["1,200.50", "12.500,00", "-5", "€ 40"])) == "number"
    assert column_kind("When", pl.Series(["2026-01-02", "02.01.2026", None])) == "date"
    assert column_kind("Opt in", pl.Series(["Y", "N", ""])) == "yes-no"
    assert column_kind("Flag", pl.Series(["0", "1", "1"])) == "yes-no"
    assert column_kind("Zeros", pl.Series(["0", "0"])) == "number"
    assert column_kind("Record ID", pl.Series(["1", "2", "3"])) == "id"
    assert column_kind("Score", pl.Series(["1", "2", "3"])) == "number", "unique numbers with no id header"
    assert column_kind("Ref", pl.Series(["R-1", "R-2"])) == "id"
    assert column_kind("Contact", pl.Series(["a@x.com", "b@y.org"])) == "email"
    assert column_kind("Notes", pl.Series(["They asked us to call back after the budget review in May"])) == (
        "free text"
    )
    assert column_kind("Region", pl.Series(["North", "South", "North"])) == "category"
    assert column_kind("Nothing", pl.Series(["", " ", None])) == "empty"


def test_the_profile_gives_each_column_its_kind_fill_distinct_values_and_examples() -> None:
    sample = pl.DataFrame({"Region": ["North", "South", "", "North"], "Score": ["1", "2", "3", "4"]})
    profile = profile_columns(sample)
    assert profile.to_dicts() == [
        {"column": "Region", "kind": "category", "fill": 0.75, "distinct": 2, "examples": ["North", "South"]},
        {"column": "Score", "kind": "number", "fill": 1.0, "distinct": 4, "examples": ["1", "2", "3"]},
    ]


def test_attribute_keys_are_snake_case_headers_that_never_take_a_lead_field_name() -> None:
    assert attribute_key("Job Title") == "job_title"
    assert attribute_key("Time on Website (s)") == "time_on_website_s"
    assert attribute_key("lastActivity") == "last_activity"
    assert attribute_key("2nd touch") == "column_2nd_touch"
    assert attribute_key("???") == "column"
    assert attribute_key("Industry", taken={"industry"}) == "industry_attribute"
    keys = attribute_keys(["Country", "country", "Job title"], reserved={"country"})
    assert keys == {
        "Country": "country_attribute",
        "country": "country_attribute_2",
        "Job title": "job_title",
    }


def test_the_other_columns_are_kept_as_attributes_but_ids_emails_and_free_text_are_not() -> None:
    sample = pl.DataFrame(
        {
            "Record ID": ["1", "2", "3"],
            "Email": ["a@x.com", "b@x.com", "c@x.com"],
            "Region": ["North", "South", "North"],
            "Seconds on site": ["30", "", "95"],
            "Notes": ["Called twice and they said to try again after the budget review"] * 3,
            "Industry": ["Retail", "Banking", "Retail"],
        }
    )
    candidates = attribute_candidates(profile_columns(sample), {"Record ID"}, reserved={"industry"})
    assert candidates.columns == ["keep", "column", "kind", "fill", "distinct", "examples", "attribute"]
    assert candidates.select("column", "keep", "attribute").rows() == [
        ("Email", False, "email"),
        ("Region", True, "region"),
        ("Seconds on site", True, "seconds_on_site"),
        ("Notes", False, "notes"),
        ("Industry", True, "industry_attribute"),
    ]
    assert candidates.row(2, named=True)["examples"] == "30, 95"
    assert kept_attributes(candidates) == {
        "Region": "region",
        "Seconds on site": "seconds_on_site",
        "Industry": "industry_attribute",
    }
    switched = candidates.with_columns(pl.col("column").is_in(["Email"]).alias("keep"))
    assert kept_attributes(switched) == {"Email": "email"}


def test_ratings_of_one_to_five_need_no_value_map() -> None:
    assert holds_stars(pl.Series(["1", "5", "", None, " 3 "]))
    assert not holds_stars(pl.Series(["1", "6"]))
    assert not holds_stars(pl.Series(["Good"]))
    assert not holds_stars(pl.Series(["", None]))


def test_rating_words_and_other_scales_get_a_first_guess_of_stars() -> None:
    assert guess_stars(["Good", "Average", "Bad"]) == {"Good": 5, "Average": 3, "Bad": 1}
    assert guess_stars(["Excellent", "good", "Poor"]) == {"Excellent": 5, "good": 4, "Poor": 2}
    assert guess_stars(["Hot", "Warm", "Cold", "Unknown"]) == {"Hot": 5, "Warm": 3, "Cold": 1, "Unknown": 3}
    # 0 to 10: 1 + 4 x (v - 0) / 10, rounded: 0 -> 1, 5 -> 3, 10 -> 5.
    assert guess_stars(["0", "5", "10"]) == {"0": 1, "5": 3, "10": 5}
    assert guess_stars(["2", "4"]) == {"2": 2, "4": 4}, "already stars"


def test_cells_that_mean_empty_do_not_make_a_number_column_text() -> None:
    sample = pl.DataFrame({"Amount": ["100", "N/A", " n/a ", "--", "20"]})
    assert column_kind("Amount", sample.get_column("Amount")) == "category", "N/A read as a value"
    blanked = without_empty_words(sample, ["N/A", "--", " "])
    assert blanked.get_column("Amount").to_list() == ["100", None, None, None, "20"]
    assert profile_columns(blanked).row(0, named=True)["kind"] == "number"
    assert without_empty_words(sample, []).equals(sample)


def test_one_bad_cell_in_ten_does_not_hide_a_date_or_number_column() -> None:
    # 9 of 10 rows read as dates (90%): still the date column, and the import names the bad cell.
    dates = [*(f"2026-01-{day:02d}" for day in range(1, 10)), "31/02/2026"]
    assert column_kind("Create Date", pl.Series(dates)) == "date"
    assert column_kind("Create Date", pl.Series([*dates[:8], "soon", "later"])) == "category", "8 of 10"
    assert column_kind("Amount", pl.Series(["5"] * 9 + ["lots"])) == "number"
    assert column_kind("Mixed", pl.Series(["5", "6", "seven", "eight"])) == "category"


def _pipedrive_like() -> pl.DataFrame:
    """Six deals as a Pipedrive export names its columns: forecasts and firmographics beside the facts."""
    return pl.DataFrame(
        {
            "Deal - ID": ["101", "102", "103", "104", "105", "106"],
            "Deal - Title": ["Acme renewal", "Bolt pilot", "Cove rollout", "Dune trial", "Echo deal", "Fir"],
            "Deal - Value": ["1200", "300", "0", "4500", "800", "90"],
            "Annual revenue": ["2000000", "50000", "900000", "1000", "70000", "300"],
            "Deal - Status": ["won", "lost", "open", "won", "lost", "open"],
            "Deal - Lost reason": ["", "price", "", "", "timing", ""],
            "Deal - Expected close date": ["2026-05-01"] * 6,
            "Deal - Won time": ["2026-03-02", "", "", "2026-03-09", "", ""],
            "Deal - Deal created": ["2026-01-0" + str(d) for d in range(1, 7)],
            "Job title": ["CTO", "CFO", "CTO", "CTO", "CFO", "CEO"],
        }
    )


def test_a_forecast_date_and_a_firmographic_are_not_the_facts_their_headers_name() -> None:
    """ "Expected close date" has not happened and "Annual revenue" is the company's: the close date is
    the won time, the amount the deal's value."""
    guesses = guess_mapping(_pipedrive_like())
    assert guesses["close_date"] == "Deal - Won time"
    assert guesses["amount"] == "Deal - Value"
    assert guesses["created_date"] == "Deal - Deal created"


def test_a_persona_repeats_its_values_so_a_deal_title_is_none() -> None:
    """ "Deal - Title" holds one value per deal (an id-like column); "Job title" repeats CTO, CFO, CEO."""
    assert guess_mapping(_pipedrive_like())["persona"] == "Job title"
    assert "persona" not in guess_mapping(_pipedrive_like().drop("Job title"))


def test_the_outcome_column_is_the_one_whose_few_values_say_won_or_lost() -> None:
    """ "Deal - Status" holds won / lost / open; "Deal - Lost reason" has "lost" only in its header."""
    assert guess_outcome_column(_pipedrive_like()) == "Deal - Status"
    assert guess_outcome_column(_pipedrive_like(), taken=["Deal - Status"]) is None
    stage = pl.DataFrame({"Notes": ["we won them over", "x"], "Deal stage": ["Closed Won", "Prospecting"]})
    assert guess_outcome_column(stage) == "Deal stage", "a header that says stage first"


def test_outcome_values_read_by_their_words() -> None:
    assert [guess_outcome(v) for v in ("Closed Won", "WON", "Win", "Closed - Lost", "Loss", "Engaging",
                                       "Not won", "Closed Not Converted")] == [
        "won", "won", "won", "lost", "lost", "open", "open", "open",
    ]  # fmt: skip


def test_stage_values_read_by_their_words_in_either_of_hubspots_spellings() -> None:
    values = ["Subscriber", "lead", "Marketing Qualified Lead", "marketingqualifiedlead", "Sales Qualified Lead",
              "SAL", "Opportunity", "customer", "Closed Won", "Closed Lost", "Working", "Not converted"]  # fmt: skip
    assert [guess_stage(v) for v in values] == [
        "created", "created", "mql", "mql", "sql", "sql", "opportunity", "won", "won", "lost", None, None,
    ]  # fmt: skip


def test_the_stage_column_is_guessed_only_when_every_value_names_a_stage() -> None:
    """A guess that left a value unmapped would refuse the file: "Lead Status" holds "Working"."""
    sample = pl.DataFrame(
        {
            "Lead Status": ["New", "Working", "New", "Unqualified"],
            "Lifecycle Stage": ["lead", "marketingqualifiedlead", "customer", "lead"],
            "Tier": ["Lead", "Lead", "Customer", "MQL"],
        }
    )
    assert guess_stage_column(sample) == "Lifecycle Stage", "every value a stage, and the header says so"
    assert guess_stage_column(sample, taken=["Lifecycle Stage"]) == "Tier"
    assert guess_stage_column(sample.select("Lead Status")) is None


def test_a_name_per_record_is_free_text_not_a_category() -> None:
    """20 deal titles, all different, are names (left out of the attributes at first); 20 rows of five
    industries, or 19 different titles in 19 rows (too few to tell), stay categories."""
    titles = pl.Series([f"Deal {i}" for i in range(20)])
    assert column_kind("Deal - Title", titles) == "free text"
    assert (
        column_kind("Industry", pl.Series(["Retail", "Software", "Health", "Energy", "Media"] * 4))
        == "category"
    )
    assert column_kind("Deal - Title", titles.head(19)) == "category"
