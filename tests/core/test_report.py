"""The offline report on hand-made sections: hostile text stays text, the page can run only its own scripts
and fetch nothing, numbers read well, and the CSVs cannot run as spreadsheet formulas."""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser

import plotly.graph_objects as go
import polars as pl
import pytest

from core.report import BLANK, ReportSection, column_texts, report_csvs, report_html, report_zip, slug

SCRIPT = "<script>alert(1)</script>"
MADE_AT = datetime(2025, 1, 13, 8, 30, tzinfo=UTC)


class Page(HTMLParser):
    """The tags of a document with their attributes, the text of each <script>, and every cell's text."""

    def __init__(self, document: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.cells: list[str] = []
        self._open: str | None = None
        self.feed(document)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._open = tag
        if tag == "script":
            self.scripts.append("")
        if tag in ("td", "th"):
            self.cells.append("")

    def handle_endtag(self, tag: str) -> None:
        self._open = None

    def handle_data(self, data: str) -> None:
        if self._open == "script":
            self.scripts[-1] += data
        elif self._open in ("td", "th"):
            self.cells[-1] += data

    def attribute(self, tag: str, name: str) -> list[str]:
        return [str(attrs[name]) for t, attrs in self.tags if t == tag and name in attrs]

    def policy(self) -> dict[str, str]:
        (content,) = [
            str(attrs["content"])
            for tag, attrs in self.tags
            if tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy"
        ]
        return dict(part.strip().split(" ", 1) for part in content.split(";"))


def bars(title: str) -> go.Figure:
    return go.Figure(go.Bar(x=["Paid search", "Email"], y=[3, 5]), layout={"title": {"text": title}})


def hostile_sections() -> list[ReportSection]:
    return [
        ReportSection(
            title="Pipeline <img src=x onerror=alert(2)>",
            lines=("Ten MQLs & two breaches", SCRIPT),
            tables=(("Breaches", pl.DataFrame({"owner": [SCRIPT, "Ana"], "hours": [30, 2]})),),
            figures=(bars("</script><script>alert(3)</script>"), bars("MQLs by source")),
        ),
        ReportSection(title="Notes", lines=("Nothing else.",)),
    ]


@pytest.fixture(scope="module")
def hostile_page() -> tuple[str, Page]:
    document = report_html(
        "Sales & Marketing: week 2025-W02", "Jan 6 – 12", hostile_sections(), made_at=MADE_AT
    )
    return document, Page(document)


def test_text_from_data_and_titles_is_escaped(hostile_page: tuple[str, Page]) -> None:
    document, page = hostile_page
    assert "<title>Sales &amp; Marketing: week 2025-W02</title>" in document
    assert "<h1>Sales &amp; Marketing: week 2025-W02</h1>" in document
    assert "<h2>Pipeline &lt;img src=x onerror=alert(2)&gt;</h2>" in document
    assert "<p>Ten MQLs &amp; two breaches</p>" in document
    assert "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>" in document
    assert "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>" in document
    assert page.cells == ["owner", "hours", SCRIPT, "30", "Ana", "2"]
    # The chart title is data inside a script: plotly's JSON writes < > / as \u escapes.
    assert "alert(3)" in document
    assert "</script><script>alert(3)" not in document
    assert "<img" not in document


def test_the_only_scripts_are_plotly_and_one_per_figure(hostile_page: tuple[str, Page]) -> None:
    _, page = hostile_page
    assert [t for t, _ in page.tags].count("script") == 3
    assert page.scripts[0].startswith("/**\n* plotly.js v")
    assert all(s.startswith("{ const figure = ") for s in page.scripts[1:])
    assert [s.count("Plotly.newPlot(") for s in page.scripts[1:]] == [1, 1]
    assert 'Plotly.newPlot("figure-1-1", figure)' in page.scripts[1]
    assert 'Plotly.newPlot("figure-1-2", figure)' in page.scripts[2]
    assert page.attribute("div", "id") == ["figure-1-1", "figure-1-2"]
    # No figure has a height of its own: each gets the default 420 px.
    assert page.attribute("div", "style") == ["height: 420px", "height: 420px"]


def test_the_policy_runs_only_those_scripts_and_fetches_nothing(hostile_page: tuple[str, Page]) -> None:
    _, page = hostile_page
    policy = page.policy()
    hashes = {
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in page.scripts
    }
    assert set(policy["script-src"].split()) == hashes
    assert len(hashes) == 3
    assert policy["default-src"] == "'none'"
    assert policy["style-src"] == "'unsafe-inline'"
    assert policy["img-src"] == "data:"
    assert policy["base-uri"] == "'none'"
    assert policy["form-action"] == "'none'"


def test_nothing_in_the_page_points_outside_it(hostile_page: tuple[str, Page]) -> None:
    document, page = hostile_page
    # plotly.js mentions URLs in its strings and comments; what matters is no tag that would load one.
    assert [t for t, _ in page.tags if t in ("link", "img", "iframe", "object", "embed", "base")] == []
    assert [attrs for _, attrs in page.tags if "src" in attrs or "href" in attrs] == []
    style = document[document.index("<style>") : document.index("</style>")]
    assert "url(" not in style
    assert "@import" not in style
    assert "@font-face" not in style


def test_a_report_without_charts_carries_no_plotly_and_runs_nothing() -> None:
    document = report_html("Week", "Jan 6 – 12", [ReportSection("Notes", ("One line.",))], made_at=MADE_AT)
    page = Page(document)
    assert page.scripts == []
    assert page.policy()["script-src"] == "'none'"
    assert len(document.encode()) < 10_000
    assert "<p>One line.</p>" in document


def test_footer_says_when_it_was_made(hostile_page: tuple[str, Page]) -> None:
    document, _ = hostile_page
    assert "<footer>Made by Huddle on 2025-01-13 08:30 UTC.</footer>" in document


def test_plotly_is_inlined_once_and_each_section_is_in_order(hostile_page: tuple[str, Page]) -> None:
    document, _ = hostile_page
    assert document.count("* plotly.js v") == 1
    assert document.index('<section id="section-1">') < document.index('<section id="section-2">')
    assert document.index("<h2>Notes</h2>") > document.index('id="figure-1-2"')


def test_cells_read_well() -> None:
    assert column_texts(pl.Series([1234567, -2, None])) == ["1,234,567", "-2", BLANK]
    # A float column keeps one number of decimals: the fewest (at most 2) that show every value.
    assert column_texts(pl.Series([1.5, 2.25, None])) == ["1.50", "2.25", BLANK]
    assert column_texts(pl.Series([3.0, 4000.0])) == ["3", "4,000"]
    assert column_texts(pl.Series([0.1, 2.0, float("nan")])) == ["0.1", "2.0", BLANK]
    assert column_texts(pl.Series([2 / 3, -0.001])) == ["0.67", "0.00"]
    assert column_texts(pl.Series([datetime(2025, 1, 6, 9, 5, 33)])) == ["2025-01-06 09:05"]
    assert column_texts(pl.Series([date(2025, 1, 6)])) == ["2025-01-06"]
    assert column_texts(pl.Series([True, False])) == ["yes", "no"]
    assert column_texts(
        pl.Series([timedelta(hours=2, minutes=5), timedelta(days=1, hours=3, minutes=40)])
    ) == [
        "2 h 5 min",
        "1 d 3 h",
    ]
    assert column_texts(pl.Series(["Ana", None])) == ["Ana", BLANK]


def test_numbers_are_right_aligned_and_an_empty_table_says_so() -> None:
    table = pl.DataFrame({"owner": ["Ana"], "MQLs": [12], "share": [0.25]})
    empty = pl.DataFrame(schema={"owner": pl.String})
    document = report_html(
        "Week",
        "",
        [ReportSection("Sales", tables=(("Per owner", table), ("Breaches", empty)))],
        made_at=MADE_AT,
    )
    assert '<tr><td>Ana</td><td class="num">12</td><td class="num">0.25</td></tr>' in document
    assert (
        '<thead><tr><th>owner</th><th class="num">MQLs</th><th class="num">share</th></tr></thead>'
        in document
    )
    assert '<h3>Breaches</h3>\n<p class="empty">None.</p>' in document


FORMULAS = pl.DataFrame(
    {
        "campaign": ['=HYPERLINK("http://evil.example","x")', "+1", "-2", "@x", "Spring sale", None],
        "change": [-2, 5, -7, 0, 1, 3],
        "source": pl.Series(["=1+1", "email", "email", "email", "email", "email"], dtype=pl.Categorical),
    }
)


def test_csv_cells_a_spreadsheet_would_run_are_defused_and_numbers_stay_numbers() -> None:
    csvs = report_csvs([ReportSection("Marketing", tables=(("Campaigns", FORMULAS),))])
    assert csvs == {
        "marketing-campaigns.csv": (
            b"campaign,change,source\n"
            b'"\'=HYPERLINK(""http://evil.example"",""x"")",-2,\'=1+1\n'
            b"'+1,5,email\n"
            b"'-2,-7,email\n"
            b"'@x,0,email\n"
            b"Spring sale,1,email\n"
            b",3,email\n"
        )
    }


def test_csv_header_from_data_is_defused_too() -> None:
    pivot = pl.DataFrame({"week": ["2025-W02"], "=cmd|' /C calc'!A0": [4]})
    (data,) = report_csvs([ReportSection("Pivot", tables=(("By campaign", pivot),))]).values()
    assert data == b"week,'=cmd|' /C calc'!A0\n2025-W02,4\n"


def test_csv_names_come_from_section_and_table_and_never_collide() -> None:
    one = pl.DataFrame({"n": [1]})
    sections = [
        ReportSection("Marketing's side", tables=(("MQLs delivered", one), ("MQLs delivered", one))),
        ReportSection("Marketing's side MQLs", tables=(("delivered", one),)),
        ReportSection("Sales’ side: speed to lead", tables=(("Breaches (by owner)", one),)),
        ReportSection("—", tables=(("!", one),)),
    ]
    assert list(report_csvs(sections)) == [
        "marketings-side-mqls-delivered.csv",
        "marketings-side-mqls-delivered-2.csv",
        "marketings-side-mqls-delivered-3.csv",
        "sales-side-speed-to-lead-breaches-by-owner.csv",
        "table.csv",
    ]


def test_slug() -> None:
    assert slug("Sales & Marketing: week 2025-W02") == "sales-marketing-week-2025-w02"
    assert slug("Café Münster") == "cafe-munster"
    assert slug("") == "report"


def test_the_zip_holds_the_report_and_every_csv() -> None:
    sections = [*hostile_sections(), ReportSection("Marketing", tables=(("Campaigns", FORMULAS),))]
    document = report_html("Week 2025-W02", "Jan 6 – 12", sections, made_at=MADE_AT)
    csvs = report_csvs(sections)
    with zipfile.ZipFile(io.BytesIO(report_zip("Week 2025-W02", document, csvs))) as archive:
        assert archive.namelist() == [
            "week-2025-w02.html",
            "pipeline-img-src-x-onerror-alert-2-breaches.csv",
            "marketing-campaigns.csv",
        ]
        assert archive.read("week-2025-w02.html").decode() == document
        assert archive.read("marketing-campaigns.csv") == csvs["marketing-campaigns.csv"]
        assert archive.read("pipeline-img-src-x-onerror-alert-2-breaches.csv") == (
            b"owner,hours\n<script>alert(1)</script>,30\nAna,2\n"
        )


def test_csv_cells_starting_with_a_tab_or_carriage_return_are_defused() -> None:
    table = pl.DataFrame({"note": ["\t=1+1", "\r=1+1", " =1+1"]})
    (data,) = report_csvs([ReportSection("Notes", tables=(("Notes", table),))]).values()
    # The CSV writer quotes the cell holding a carriage return; a leading space is not a formula.
    assert data == b"note\n'\t=1+1\n\"'\r=1+1\"\n =1+1\n"
