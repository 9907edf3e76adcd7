"""core/content_files.py: links (http and https with a host only), files judged by their bytes against the
extension they claim, zip bombs never unpacked, the cap in bytes, and text kept as written."""

from __future__ import annotations

import io
import zipfile

import pytest

from core.content_files import (
    ALLOWED,
    MAX_TITLE,
    ContentFileRefused,
    check_link,
    check_size,
    clean_filename,
    clean_text,
    extension,
    max_bytes,
    sniff,
)

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
DECK_MAIN = "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"


def office(parts: dict[str, str], main: tuple[str, str] | None) -> bytes:
    """A zip with `parts`, and a [Content_Types].xml naming `main` (part, type) when given."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        if main is not None:
            archive.writestr(
                "[Content_Types].xml",
                f'<Types><Override PartName="/{main[0]}" ContentType="{main[1]}"/></Types>',
            )
        for name, text in parts.items():
            archive.writestr(name, text)
    return out.getvalue()


DOCX = office({"word/document.xml": "<w:document/>"}, ("word/document.xml", WORD_MAIN))
PPTX = office({"ppt/presentation.xml": "<p:presentation/>"}, ("ppt/presentation.xml", DECK_MAIN))


@pytest.mark.parametrize(
    "link",
    ["https://example.com", "http://example.com/a?b=1#c", "HTTPS://Example.com/Case%20Study.pdf",
     "  https://example.com/padded  "],
)  # fmt: skip
def test_web_links_are_kept_trimmed(link: str) -> None:
    assert check_link(link) == link.strip()


@pytest.mark.parametrize(
    ("link", "words"),
    [
        ("javascript:alert(document.cookie)", "javascript:"),
        ("  JaVaScRiPt:alert(1)", "javascript:"),
        ("data:text/html;base64,PHNjcmlwdD4=", "data:"),
        ("file:///etc/passwd", "file:"),
        ("vbscript:msgbox", "vbscript:"),
        ("ftp://example.com/deck.pdf", "ftp:"),
        ("/library/deck.pdf", "without http"),
        ("example.com/deck.pdf", "without http"),
        ("//example.com/deck.pdf", "without http"),
        ("https://", "no website"),
        ("https:///path-only", "no website"),
        ("https://exa mple.com", "spaces"),
        ("https://example.com/\x00", "control"),
        ("java\tscript:alert(1)", "spaces"),
        ("", "Give"),
        (None, "Give"),
        ("https://example.com/" + "a" * 2000, "2,000"),
        ("https://intranet.example.com@evil.example.net/deck", "user name"),
        ("https://user:secret@example.com/deck", "user name"),
        ("https://example.com:99999/deck", "not a web address"),
        ("https://[::1/deck", "not a web address"),
    ],
)
def test_other_links_are_refused_with_a_sentence(link: str | None, words: str) -> None:
    with pytest.raises(ContentFileRefused, match=words) as refused:
        check_link(link)
    assert str(refused.value).endswith(".")


@pytest.mark.parametrize(
    ("filename", "data", "media_type"),
    [
        ("Case study.pdf", PDF, "application/pdf"),
        ("LOGO.PNG", PNG, "image/png"),
        ("photo.jpg", JPEG, "image/jpeg"),
        ("photo.jpeg", JPEG, "image/jpeg"),
        ("brief.docx", DOCX, ALLOWED["docx"]),
        ("pitch.pptx", PPTX, ALLOWED["pptx"]),
    ],
)
def test_each_allowed_type_is_recognised_from_its_bytes(filename: str, data: bytes, media_type: str) -> None:
    assert sniff(filename, data) == media_type


@pytest.mark.parametrize(
    ("filename", "data"),
    [
        ("deck.pdf", PNG),  # a PNG renamed
        ("photo.png", JPEG),
        ("photo.jpg", PDF),
        ("page.pdf", b"<html><script>alert(1)</script></html>"),
        ("brief.docx", PPTX),  # a deck renamed as a Word file
        ("pitch.pptx", DOCX),
        ("brief.docx", b"PK\x03\x04 not a zip at all"),
        ("brief.docx", office({"word/document.xml": "<w/>"}, None)),  # no [Content_Types].xml
        ("brief.docx", office({"other/x.xml": "<x/>"}, ("word/document.xml", WORD_MAIN))),  # no word/ part
        ("archive.docx", office({"readme.txt": "hi"}, ("readme.txt", "text/plain"))),  # a plain zip
        ("empty.pdf", b""),
    ],
)
def test_bytes_that_are_not_the_claimed_type_are_refused(filename: str, data: bytes) -> None:
    with pytest.raises(ContentFileRefused):
        sniff(filename, data)


@pytest.mark.parametrize(
    "filename", ["tool.exe", "page.html", "script.svg", "noextension", "archive.zip", ".pdf"]
)
def test_types_not_allowed_are_refused_whatever_the_bytes(filename: str) -> None:
    with pytest.raises(ContentFileRefused, match="not a file Huddle keeps"):
        sniff(filename, PDF)


def test_a_zip_bomb_is_refused_without_being_unpacked() -> None:
    """A [Content_Types].xml that claims to be small but inflates to 50 MB: at most a megabyte is read."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", "<w/>")
        archive.writestr("[Content_Types].xml", WORD_MAIN + " " * 50_000_000)
    data = out.getvalue()
    assert len(data) < 200_000  # a small upload...
    with pytest.raises(ContentFileRefused):
        sniff("bomb.docx", data)  # ...whose big part is never inflated whole


def test_many_entries_are_not_an_office_file() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            f'<Types><Override PartName="/word/document.xml" ContentType="{WORD_MAIN}"/></Types>',
        )
        archive.writestr("word/document.xml", "<w/>")
        for i in range(10_001):
            archive.writestr(f"word/media/{i}.bin", "")
    with pytest.raises(ContentFileRefused):
        sniff("many.docx", out.getvalue())


def test_file_names_lose_their_folders_and_keep_their_words() -> None:
    assert clean_filename("C:\\Users\\me\\Q3 deck.pptx") == "Q3 deck.pptx"
    assert clean_filename("../../etc/passwd.pdf") == "passwd.pdf"
    assert sniff("../../Case.pdf", PDF) == "application/pdf"
    for bad in ["", "   ", "folder/", "..", "bad\x00name.pdf", "x" * 252 + ".pdf"]:
        with pytest.raises(ContentFileRefused):
            clean_filename(bad)
    assert (extension("Deck.PPTX"), extension(".pdf"), extension("README")) == ("pptx", "", "")


def test_the_cap_in_bytes() -> None:
    assert max_bytes(25) == 25 * 1_048_576
    assert max_bytes(0.5) == 524_288
    check_size(max_bytes(1), max_bytes(1))  # exactly the cap is kept
    with pytest.raises(ContentFileRefused, match="MB"):
        check_size(max_bytes(1) + 1, max_bytes(1))


def test_text_is_trimmed_kept_as_written_and_limited() -> None:
    assert clean_text("  <b>Deck</b> =SUM(A1) ", limit=MAX_TITLE, what="title") == "<b>Deck</b> =SUM(A1)"
    assert clean_text("   ", limit=10, what="note") is None
    assert clean_text(None, limit=10, what="note") is None
    assert clean_text("x" * 200, limit=MAX_TITLE, what="title") == "x" * 200
    with pytest.raises(ContentFileRefused, match="201 characters"):
        clean_text("x" * 201, limit=MAX_TITLE, what="title")
    with pytest.raises(ContentFileRefused, match="Give the title"):
        clean_text(" ", limit=MAX_TITLE, what="title", required=True)
