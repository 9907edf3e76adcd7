"""What an asset's link or uploaded file may be (issue 14): pure checks, no I/O beyond the bytes handed in.

A link must be http or https with a host: `javascript:`, `data:`, `file:` and the like would run or read
something in the viewer's browser. A file's type is decided from its bytes, never from its name alone: a
PDF starts with ``%PDF-``, a PNG with its eight-byte signature, a JPEG with FF D8 FF; a DOCX or PPTX is a
real zip whose ``[Content_Types].xml`` names the Word or PowerPoint main part. The name's extension must
agree with what the bytes are, so a renamed executable or HTML page is refused. The zip is opened from
memory and only its directory and that one small part are read (capped), so a zip bomb is never unpacked.

Text is kept as the person wrote it (trimmed of surrounding spaces): escaping happens where it is shown or
exported, never here.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from urllib.parse import urlsplit

__all__ = [
    "ALLOWED",
    "KIND_WORDS",
    "MAX_FILENAME",
    "MAX_LINK",
    "MAX_NOTE",
    "MAX_REASON",
    "MAX_TITLE",
    "ContentFileRefused",
    "bytes_type",
    "check_link",
    "check_size",
    "clean_filename",
    "clean_text",
    "extension",
    "max_bytes",
    "sniff",
]

MAX_TITLE = 200
MAX_NOTE = 2000
MAX_REASON = 500
MAX_LINK = 2000
MAX_FILENAME = 255

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"

# The extensions a file may carry (lower case, without the dot), with the type its bytes must be.
ALLOWED: dict[str, str] = {
    "pdf": PDF,
    "png": PNG,
    "jpg": JPEG,
    "jpeg": JPEG,
    "docx": DOCX,
    "pptx": PPTX,
}
# Each allowed media type in words, for messages and download buttons.
KIND_WORDS: dict[str, str] = {
    PDF: "PDF",
    PNG: "PNG image",
    JPEG: "JPEG image",
    DOCX: "Word document",
    PPTX: "PowerPoint deck",
}

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CONTENT_TYPES = "[Content_Types].xml"
_CONTENT_TYPES_MAX = 1_000_000  # a real one is a few kilobytes; no more than this is ever read
_ZIP_MAX_ENTRIES = 10_000  # a real deck has hundreds; more is not an Office file worth opening
# The main part's content type in [Content_Types].xml, and the folder that part lives in.
_OFFICE_MAIN: dict[str, tuple[bytes, str]] = {
    DOCX: (b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml", "word/"),
    PPTX: (b"application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml", "ppt/"),
}


class ContentFileRefused(ValueError):
    """The link or file cannot be taken; the message is fit to show the person who gave it."""


def check_link(url: str | None) -> str:
    """The link as it is stored (trimmed); refused unless it is http(s) with a host."""
    link = (url or "").strip()
    if not link:
        raise ContentFileRefused("Give the asset's link (an address starting with https://).")
    if len(link) > MAX_LINK:
        raise ContentFileRefused(f"The link is {len(link):,} characters; keep it under {MAX_LINK:,}.")
    if any(ch.isspace() or not ch.isprintable() for ch in link):
        raise ContentFileRefused("A link cannot hold spaces or control characters.")
    try:
        parts = urlsplit(link)
        host = parts.hostname
        _ = parts.port  # a port that is not a number, or out of range, raises here
    except ValueError:
        raise ContentFileRefused("That is not a web address: write it as https://example.com/...") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        named = f"a {scheme}: link" if scheme else "a link without http:// or https://"
        raise ContentFileRefused(f"Only web links (http:// or https://) are allowed, not {named}.")
    if not host:
        raise ContentFileRefused("The link names no website: write it as https://example.com/...")
    if "@" in parts.netloc:
        # https://trusted.com@elsewhere.net opens elsewhere.net: a name or password in a link misleads.
        raise ContentFileRefused(
            "A link cannot hold a user name or password (nothing before an @ in the site)."
        )
    return link


def max_bytes(megabytes: float) -> int:
    """The upload cap in bytes for a cap given in megabytes (MiB, as file sizes are shown)."""
    return int(megabytes * 1024 * 1024)


def check_size(size: int, cap: int) -> None:
    """Refuse a file over the cap (before anything is stored)."""
    if size > cap:
        raise ContentFileRefused(
            f"The file is {size / 1_048_576:,.1f} MB; files up to {cap / 1_048_576:,.0f} MB are kept."
        )


def clean_filename(filename: str | None) -> str:
    """The file's own name without any folders, trimmed; refused when nothing is left, when it has control
    characters, or when it is longer than MAX_FILENAME."""
    name = posixpath.basename((filename or "").replace("\\", "/")).strip()
    if not name or name in (".", ".."):
        raise ContentFileRefused("The file has no name.")
    if any(not ch.isprintable() for ch in name):
        raise ContentFileRefused("The file's name has control characters in it: rename it and try again.")
    if len(name) > MAX_FILENAME:
        raise ContentFileRefused(
            f"The file's name is {len(name):,} characters; keep it under {MAX_FILENAME}."
        )
    return name


def extension(filename: str) -> str:
    """The file name's extension, lower case, without the dot; '' when it has none."""
    name = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


def _office_type(data: bytes) -> str | None:
    """DOCX or PPTX when `data` is a zip whose [Content_Types].xml names that main part (and the zip has a
    part in its folder); None otherwise. Reads only the directory and that one part, capped."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            if len(infos) > _ZIP_MAX_ENTRIES:
                return None
            names = {info.filename for info in infos}
            found = next((info for info in infos if info.filename == _CONTENT_TYPES), None)
            if found is None or found.file_size > _CONTENT_TYPES_MAX:
                return None
            with archive.open(found) as part:
                types = part.read(_CONTENT_TYPES_MAX + 1)  # the header's size may lie: never read more
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, OSError, EOFError,
            ValueError, KeyError):  # fmt: skip
        return None
    if len(types) > _CONTENT_TYPES_MAX:
        return None
    for media_type, (main, folder) in _OFFICE_MAIN.items():
        if main in types and any(name.startswith(folder) for name in names):
            return media_type
    return None


def bytes_type(data: bytes) -> str | None:
    """The allowed type the bytes are, or None."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(_PNG_SIGNATURE):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"PK\x03\x04"):
        return _office_type(data)
    return None


def sniff(filename: str, data: bytes) -> str:
    """The media type of an uploaded file, decided from its bytes; refused when the extension is not one of
    ALLOWED or the bytes are not what the extension claims."""
    name = clean_filename(filename)
    claimed = ALLOWED.get(extension(name))
    if claimed is None:
        allowed = ", ".join(sorted({e.upper() for e in ALLOWED} - {"JPEG"}))
        raise ContentFileRefused(f"{name!r} is not a file Huddle keeps: upload one of {allowed}.")
    if not data:
        raise ContentFileRefused(f"{name!r} is empty.")
    found = bytes_type(data)
    if found != claimed:
        what = f"a {KIND_WORDS[found]}" if found else "none of the allowed types"
        raise ContentFileRefused(
            f"{name!r} is named as a {KIND_WORDS[claimed]} but its contents are {what}: it was not kept."
        )
    return claimed


def clean_text(value: str | None, *, limit: int, what: str, required: bool = False) -> str | None:
    """Trimmed text as the person wrote it (escaping happens where it is shown or exported); None when
    empty. Refused when over `limit`, or empty and `required`. `what` names the field ("title")."""
    text = (value or "").strip()
    if not text:
        if required:
            raise ContentFileRefused(f"Give the {what}.")
        return None
    if len(text) > limit:
        raise ContentFileRefused(f"The {what} is {len(text):,} characters; keep it under {limit:,}.")
    return text
