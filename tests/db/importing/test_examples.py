"""The example mappings in mappings/ read small exports written by hand with the CRMs' standard column
headers, and store what was worked out by hand: stages, outcomes, amounts, owners, teams, ratings and
attributes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from db.access import OPERATOR
from db.importing.mapping import Mapping, parse_mapping
from db.importing.run import RunOptions, import_csv
from db.models import DataSource, Lead, LeadRating, LeadRatingHistory, Role, Team, User
from tests.conftest import PROJECT_ROOT

MAPPINGS = PROJECT_ROOT / "mappings"
AS_OPERATOR = RunOptions(actor=OPERATOR)  # the command line's import


def example(name: str) -> Mapping:
    return parse_mapping((MAPPINGS / name).read_text(encoding="utf-8"))


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize("path", sorted(MAPPINGS.glob("*.toml")), ids=lambda p: p.name)
def test_every_example_mapping_parses(path: Path) -> None:
    mapping = parse_mapping(path.read_text(encoding="utf-8"))
    assert mapping.columns["external_id"]


def test_the_examples_are_the_two_documented_ones() -> None:
    assert sorted(p.name for p in MAPPINGS.glob("*.toml")) == [
        "hubspot_contacts.toml",
        "salesforce_leads.toml",
    ]


def _leads(engine: Engine, source: str) -> dict[str, dict[str, Any]]:
    """external_id -> what the lead holds, with its owner's and team's names and its rating."""
    with Session(engine) as session:
        users = {u.id: u for u in session.exec(select(User)).all()}
        teams = {t.id: t.name for t in session.exec(select(Team)).all()}
        ratings: dict[tuple[int | None, int | None], int] = {
            (r.lead_id, r.rater_id): r.stars for r in session.exec(select(LeadRating)).all()
        }
        found = {}
        for lead in session.exec(select(Lead).where(Lead.source_system == source)).all():
            owner = users.get(lead.owner_id) if lead.owner_id is not None else None
            found[lead.external_id] = {
                "created": lead.created_at,
                "mql": lead.mql_at,
                "sql": lead.sql_at,
                "opportunity": lead.opportunity_at,
                "closed": lead.closed_at,
                "outcome": lead.outcome.value if lead.outcome else None,
                "amount": lead.amount,
                "owner": owner.name if owner else None,
                "team": teams.get(lead.team_id) if lead.team_id is not None else None,
                "source": lead.source,
                "landing_page": lead.landing_page,
                "industry": lead.industry,
                "company_size": lead.company_size,
                "country": lead.country,
                "persona": lead.persona,
                "counts": (lead.page_views, lead.email_clicks, lead.content_downloads),
                "attributes": lead.attributes,
                "rating": ratings.get((lead.id, lead.owner_id)),
            }
        return found


# ---------------------------------------------------------------- HubSpot contacts export

HUBSPOT_CSV = """\
Record ID,First Name,Last Name,Email,Create Date,Lifecycle Stage,Lead Status,Became a Marketing Qualified Lead Date,Became a Sales Qualified Lead Date,Became an Opportunity Date,Became a Customer Date,Total Revenue,Contact owner,HubSpot Team,Original Source,Original Source Drill-Down 1,First Page Seen,Industry,Number of Employees,Country/Region,Job Title,Number of Pageviews,Marketing emails clicked,Company Name
101,Ada,Ng,ada@acme.example,2024-03-01 09:15,subscriber,New,,,,,,Maria Lopez,EMEA,Organic Search,google,https://example.com/blog,Software,25,Germany,CTO,12,,"Acme GmbH"
102,Ben,Ortiz,ben@bolt.example,2024-03-02 11:00,Marketing Qualified Lead,Open,2024-03-05 10:00:00,,,,,Maria Lopez,EMEA,Paid Social,facebook,https://example.com/pricing,Retail,1000+,Spain,Buyer,3,1,"Bolt, S.A."
103,Cy,Park,cy@corp.example,2024-03-03 08:00,salesqualifiedlead,In Progress,,2024-03-09 15:45,,,,jan@example.com,Americas,Offline Sources,CRM_UI,,Finance,250,United States,VP Finance,0,2,Corp Inc
104,Di,Quinn,di@dyn.example,2024-03-04 12:00,customer,Connected,2024-03-05 09:00,2024-03-06 09:00,2024-04-01 12:00,2024-04-10 16:30,"12,500.00",Maria Lopez,EMEA,Referrals,,https://example.com/,Software,"4,800",Germany,CEO,40,7,Dyn AG
105,Ed,Roy,ed@echo.example,2024-03-05 07:30,Customer,Connected,,,,,,Jan@Example.com,Americas,Direct Traffic,,,Retail,N/A,Canada,Owner,5,0,Echo Ltd
106,Flo,Sen,flo@fox.example,2024-03-06 10:10,other,Unqualified,,,,2024-05-01 09:00,$3000,,,Email Marketing,newsletter,,(No value),--,(No value),Select,1,1,Fox LLC
107,Gus,Tan,gus@gem.example,2024-03-07 18:00, Lead ,N/A,,,,,,Maria Lopez,EMEA,Organic Search,bing,,Software,7,France,,,,Gem SARL
"""


def test_hubspot_contacts_export(db_engine: Engine) -> None:
    mapping = example("hubspot_contacts.toml")
    result = import_csv(
        db_engine, HUBSPOT_CSV.encode(), mapping, file_name="hubspot-contacts.csv", options=AS_OPERATOR
    )
    assert result.ok, result.report.first(10)
    assert result.counts is not None
    assert (result.counts.rows_read, result.counts.created, result.counts.users_created) == (7, 7, 2)
    assert result.counts.teams_created == 2
    leads = _leads(db_engine, "hubspot")
    no_dates = {"mql": None, "sql": None, "opportunity": None, "closed": None}

    assert leads["101"] == {
        "created": at(2024, 3, 1, 9, 15),
        **no_dates,
        "outcome": None,
        "amount": None,
        "owner": "Maria Lopez",
        "team": "EMEA",
        "source": "Organic Search",
        "landing_page": "https://example.com/blog",
        "industry": "Software",
        "company_size": "11-50",  # a head count becomes the band the pages group by
        "country": "Germany",
        "persona": "CTO",
        "counts": (12, 0, 0),  # a blank count is 0
        "attributes": {"company": "Acme GmbH", "lead_status": "New", "source_detail": "google"},
        "rating": None,
    }
    assert {k: leads["102"][k] for k in ("mql", "sql", "company_size", "counts", "attributes")} == {
        "mql": at(2024, 3, 5, 10, 0),
        "sql": None,
        "company_size": "1000+",  # a band stays as it is
        "counts": (3, 1, 0),
        "attributes": {"company": "Bolt, S.A.", "lead_status": "Open", "source_detail": "facebook"},
    }
    # Lead straight to SQL (HubSpot's internal stage name): the skipped MQL date stays blank.
    assert {k: leads["103"][k] for k in ("mql", "sql", "outcome", "owner", "team", "company_size")} == {
        "mql": None,
        "sql": at(2024, 3, 9, 15, 45),
        "outcome": None,
        "owner": "jan@example.com",
        "team": "Americas",
        "company_size": "201-1000",
    }
    assert leads["103"]["landing_page"] is None
    # A customer: won on the customer date, with its revenue.
    assert {k: leads["104"][k] for k in ("mql", "sql", "opportunity", "closed", "outcome", "amount")} == {
        "mql": at(2024, 3, 5, 9, 0),
        "sql": at(2024, 3, 6, 9, 0),
        "opportunity": at(2024, 4, 1, 12, 0),
        "closed": at(2024, 4, 10, 16, 30),
        "outcome": "won",
        "amount": 12_500.0,
    }
    assert leads["104"]["company_size"] == "1000+", "4,800 people"
    # A customer without a customer date takes its created date (missing_date = "created"); the owner
    # written in other letter case is the same person.
    assert {k: leads["105"][k] for k in ("closed", "outcome", "owner", "company_size")} == {
        "closed": at(2024, 3, 5, 7, 30),
        "outcome": "won",
        "owner": "jan@example.com",
        "company_size": None,  # N/A is one of the null values
    }
    # Set back to "other" after becoming a customer: the customer date still makes it won (closed_means).
    assert {k: leads["106"][k] for k in ("closed", "outcome", "amount", "owner", "team")} == {
        "closed": at(2024, 5, 1, 9, 0),
        "outcome": "won",
        "amount": 3000.0,
        "owner": None,
        "team": None,
    }
    assert (leads["106"]["industry"], leads["106"]["company_size"], leads["106"]["country"]) == (
        None,
        None,
        None,
    )
    assert leads["106"]["persona"] is None, "Select is a null value"
    assert leads["107"]["outcome"] is None and leads["107"]["closed"] is None, "' Lead ' is created"
    assert leads["107"]["attributes"] == {"company": "Gem SARL", "source_detail": "bing"}, "N/A is blank"
    assert leads["107"]["company_size"] == "1-10"

    with Session(db_engine) as session:
        source = session.get(DataSource, "hubspot")
        assert source is not None and source.label == "HubSpot contacts"
        assert source.stages == ["created", "mql", "sql", "opportunity", "won"]
        assert source.later_stage_implies_earlier is True
        people = {u.name: u for u in session.exec(select(User)).all()}
        assert set(people) == {"Maria Lopez", "jan@example.com"}
        jan = people["jan@example.com"]
        assert (jan.username, jan.email, jan.active, jan.password_hash, jan.role) == (
            "jan",
            "jan@example.com",
            False,
            None,
            Role.rep,
        )
        assert people["Maria Lopez"].username == "maria.lopez"
        teams = {t.id: t.name for t in session.exec(select(Team)).all()}
        assert teams.get(people["Maria Lopez"].team_id) == "EMEA"

    again = import_csv(
        db_engine, HUBSPOT_CSV.encode(), mapping, file_name="hubspot-contacts.csv", options=AS_OPERATOR
    )
    assert again.counts is not None
    assert (again.counts.created, again.counts.updated, again.counts.unchanged) == (0, 0, 7)
    assert again.counts.users_created == 0


# ---------------------------------------------------------------- Salesforce leads report

SALESFORCE_CSV = """\
"First Name","Last Name","Title","Company / Account","Lead Source","Industry","No. of Employees","Country","Rating","Lead Status","Lead Owner","Create Date","Converted","Converted Date","Lead ID"
"Ann","Able","VP Sales","Able Corp","Web","Technology","1,250","USA","Hot","Open - Not Contacted","Dana Smith","3/15/2024 2:05 PM","0","","00Q5g00000A1b2cEAB"
"Bo","Bell","Buyer","Bell & Co","Phone Inquiry","Retail","45","UK","warm","Working - Contacted","Dana Smith","3/16/2024 9:00 AM","0","","00Q5g00000A1b2dEAB"
"Cal","Cruz","CTO","Cruz, Inc.","Partner Referral","Technology","300","USA","Cold","Closed - Converted","Eli Jones","3/17/2024 12:30 PM","1","3/20/2024","00Q5g00000A1b2eEAB"
"Dee","Diaz","","Diaz SL","Purchased List","--None--","","Spain","","Closed - Not Converted","Eli Jones","3/18/2024 11:59 PM","0","","00Q5g00000A1b2fEAB"
"Eve","Eng","Analyst","Eng GmbH","Web","Finance","8","Germany","","Open - Not Contacted","Web Leads Queue","2024-03-19","0","","00Q5g00000A1b2gEAB"
"""


def test_salesforce_leads_report(db_engine: Engine) -> None:
    mapping = example("salesforce_leads.toml")
    result = import_csv(
        db_engine, SALESFORCE_CSV.encode(), mapping, file_name="report.csv", options=AS_OPERATOR
    )
    assert result.ok, result.report.first(10)
    assert result.counts is not None
    assert (result.counts.rows_read, result.counts.created, result.counts.users_created) == (5, 5, 3)
    assert result.counts.ratings_written == 3
    leads = _leads(db_engine, "salesforce")
    hot = leads["00Q5g00000A1b2cEAB"]
    assert hot == {
        "created": at(2024, 3, 15, 14, 5),
        "mql": None,
        "sql": None,
        "opportunity": None,
        "closed": None,
        "outcome": None,
        "amount": None,
        "owner": "Dana Smith",
        "team": None,
        "source": "Web",
        "landing_page": None,
        "industry": "Technology",
        "company_size": "1000+",
        "country": "USA",
        "persona": "VP Sales",
        "counts": (0, 0, 0),
        "attributes": {"company": "Able Corp", "converted": "0", "lead_status": "Open - Not Contacted"},
        "rating": 5,  # Hot
    }
    warm = leads["00Q5g00000A1b2dEAB"]
    assert (warm["created"], warm["rating"], warm["company_size"]) == (at(2024, 3, 16, 9, 0), 3, "11-50")
    converted = leads["00Q5g00000A1b2eEAB"]
    assert {
        k: converted[k] for k in ("created", "opportunity", "outcome", "owner", "rating", "company_size")
    } == {
        "created": at(2024, 3, 17, 12, 30),
        "opportunity": at(2024, 3, 20),  # Converted Date: conversion opens an opportunity
        "outcome": None,  # won and lost live on opportunities, not leads
        "owner": "Eli Jones",
        "rating": 1,  # Cold
        "company_size": "201-1000",
    }
    assert converted["attributes"] == {
        "company": "Cruz, Inc.",
        "converted": "1",
        "lead_status": "Closed - Converted",
    }
    unrated = leads["00Q5g00000A1b2fEAB"]
    assert (unrated["created"], unrated["rating"], unrated["industry"], unrated["persona"]) == (
        at(2024, 3, 18, 23, 59),
        None,
        None,  # --None-- is a null value
        None,
    )
    assert unrated["opportunity"] is None
    queue = leads["00Q5g00000A1b2gEAB"]
    assert (queue["owner"], queue["created"], queue["company_size"]) == (
        "Web Leads Queue",
        at(2024, 3, 19),
        "1-10",
    )

    with Session(db_engine) as session:
        source = session.get(DataSource, "salesforce")
        assert source is not None and source.stages == ["created", "opportunity"]
        assert source.later_stage_implies_earlier is False
        history = session.exec(select(LeadRatingHistory)).all()
        assert sorted(h.stars for h in history) == [1, 3, 5]
        assert all(h.reasons == ["imported"] for h in history)
        ratings = session.exec(select(LeadRating)).all()
        assert all(r.reasons == ["imported"] for r in ratings)

    again = import_csv(
        db_engine, SALESFORCE_CSV.encode(), mapping, file_name="report.csv", options=AS_OPERATOR
    )
    assert again.counts is not None
    assert (again.counts.created, again.counts.updated, again.counts.unchanged) == (0, 0, 5)
    assert again.counts.ratings_written == 0


def test_salesforce_times_are_read_in_the_exporting_users_time_zone(sqlite_engine: Engine) -> None:
    text = (MAPPINGS / "salesforce_leads.toml").read_text(encoding="utf-8")
    mapping = parse_mapping(text.replace('timezone = "UTC"', 'timezone = "America/Los_Angeles"'))
    assert import_csv(sqlite_engine, SALESFORCE_CSV.encode(), mapping, options=AS_OPERATOR).ok
    leads = _leads(sqlite_engine, "salesforce")
    assert leads["00Q5g00000A1b2cEAB"]["created"] == at(2024, 3, 15, 21, 5), "2:05 PM PDT"
    assert leads["00Q5g00000A1b2dEAB"]["created"] == at(2024, 3, 16, 16, 0)
    assert leads["00Q5g00000A1b2fEAB"]["created"] == at(2024, 3, 19, 6, 59), "11:59 PM is the next day in UTC"


def test_a_converted_salesforce_lead_without_a_converted_date_is_refused(sqlite_engine: Engine) -> None:
    broken = SALESFORCE_CSV.replace('"1","3/20/2024"', '"1",""')
    result = import_csv(
        sqlite_engine,
        broken.encode(),
        example("salesforce_leads.toml"),
        file_name="r.csv",
        options=AS_OPERATOR,
    )
    assert not result.ok
    assert [(p.row, p.column, p.value, p.problem) for p in result.report.problems] == [
        (4, "Converted Date", "Closed - Converted", "the stage is opportunity but there is no date for it")
    ]


def test_a_salesforce_rating_outside_the_mapping_is_refused(sqlite_engine: Engine) -> None:
    broken = SALESFORCE_CSV.replace('"warm"', '"Lukewarm"')
    result = import_csv(
        sqlite_engine,
        broken.encode(),
        example("salesforce_leads.toml"),
        file_name="r.csv",
        options=AS_OPERATOR,
    )
    assert [(p.row, p.column, p.value) for p in result.report.problems] == [(3, "Rating", "Lukewarm")]
    assert "not a rating listed in [rating.values]" in result.report.problems[0].problem
