"""Reading sources: path safety, strict UTF-8, hidden files, front matter, HTML and PDF extraction."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers.documents import tiny_pdf

from korea_bot.errors import SourceError
from korea_bot.ingest.chunking import chunk_document
from korea_bot.ingest.sources import discover, load_document, resolve_inside, safe_relative


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "a/../../b.txt", "a\x00b.txt", "", "~/x.txt"])
def test_unsafe_names_are_rejected(name: str, tmp_path: Path) -> None:
    """Traversal, absolute paths, NUL and home references never resolve to a file."""
    with pytest.raises(SourceError):
        resolve_inside(tmp_path, name)


def test_safe_name_is_kept() -> None:
    """An ordinary nested name passes unchanged."""
    assert safe_relative("seed/article.txt") == "seed/article.txt"


def test_discover_skips_hidden_unsupported_and_links_out(tmp_path: Path) -> None:
    """Hidden files and folders, other suffixes, and symlinks leaving the folder are not listed."""
    root = tmp_path / "src"
    (root / "sub").mkdir(parents=True)
    (root / ".hidden").mkdir()
    (root / "a.txt").write_text("Alpha text.", encoding="utf-8")
    (root / "sub" / "b.md").write_text("Beta text.", encoding="utf-8")
    (root / ".secret.txt").write_text("no", encoding="utf-8")
    (root / ".hidden" / "c.txt").write_text("no", encoding="utf-8")
    (root / "image.png").write_bytes(b"\x89PNG")
    outside = tmp_path / "outside.txt"
    outside.write_text("outside secret", encoding="utf-8")
    os.symlink(outside, root / "link.txt")
    assert discover(root) == ["a.txt", "sub/b.md"]


def test_strict_utf8_names_the_file(tmp_path: Path) -> None:
    """A Latin-1 file is refused with its name in the message."""
    (tmp_path / "bad.txt").write_bytes("caf\xe9 au lait".encode("latin-1"))
    with pytest.raises(SourceError, match=r"bad\.txt is not valid UTF-8"):
        load_document(tmp_path, "bad.txt")


def test_missing_folder_is_named(tmp_path: Path) -> None:
    """A sources folder that does not exist is a clear error."""
    with pytest.raises(SourceError, match="does not exist"):
        discover(tmp_path / "nope")


def test_markdown_front_matter_and_offsets(tmp_path: Path) -> None:
    """Front matter gives the metadata; offsets index the file as Python reads it, front matter included."""
    body = (
        "---\ntitle: Talks on the Peninsula\nauthor: A. Writer\nurl: https://example.org/talks\ndate: 2018-01-02\n"
        "---\n# Heading\n\nThe U.S. delegation met on Nov. 29 in Seoul. It proposed a freeze.\n"
    )
    (tmp_path / "t.md").write_text(body, encoding="utf-8")
    doc = load_document(tmp_path, "t.md")
    assert (doc.title, doc.author, doc.url, doc.date) == (
        "Talks on the Peninsula",
        "A. Writer",
        "https://example.org/talks",
        "2018-01-02",
    )
    chunks = chunk_document(doc)
    assert chunks and all(c.text == body[c.start : c.end] for c in chunks)
    assert not any("Heading" in c.text or "title:" in c.text for c in chunks)
    first_sentence = chunks[0].sentences[0]
    assert body[first_sentence[0] : first_sentence[1]] == "The U.S. delegation met on Nov. 29 in Seoul."


def test_crlf_text_offsets_match_python_text_mode(tmp_path: Path) -> None:
    """Windows line endings are read as Python's text mode reads them, so offsets match open().read()."""
    (tmp_path / "w.txt").write_bytes(b"Title line\r\n\r\nFirst sentence here. Second one.\r\n")
    doc = load_document(tmp_path, "w.txt")
    with open(tmp_path / "w.txt", encoding="utf-8") as fh:
        text = fh.read()
    assert doc.text == text
    assert all(c.text == text[c.start : c.end] for c in chunk_document(doc))


def test_html_main_text_without_navigation_or_scripts(tmp_path: Path) -> None:
    """The HTML extractor keeps the article and drops navigation, scripts and footers."""
    article = " ".join(
        f"Paragraph {i} explains how the six-party talks brought regional powers together on the peninsula."
        for i in range(6)
    )
    html = (
        "<html><head><title>Six-party talks explained</title><script>var secret='tracker';</script></head>"
        "<body><nav><a href='/'>Home</a> | <a href='/about'>About us</a> | Subscribe now</nav>"
        f"<article><h1>Six-party talks explained</h1><p>{article}</p><p>{article}</p></article>"
        "<footer>Copyright footer links</footer></body></html>"
    )
    (tmp_path / "page.html").write_text(html, encoding="utf-8")
    doc = load_document(tmp_path, "page.html")
    assert doc.title == "Six-party talks explained"
    assert "six-party talks brought regional powers" in doc.text
    assert "tracker" not in doc.text and "About us" not in doc.text
    assert all(c.text == doc.text[c.start : c.end] for c in chunk_document(doc))


def test_pdf_pages_are_kept_for_citations(tmp_path: Path) -> None:
    """PDF text is extracted page by page; each passage knows its page; the title comes from the metadata."""
    data = tiny_pdf(["Russia borders on North Korea.", "The double freeze plan stops tests and drills."], "Brief")
    (tmp_path / "brief.pdf").write_bytes(data)
    doc = load_document(tmp_path, "brief.pdf")
    assert doc.title == "Brief" and len(doc.page_starts) == 2
    chunks = chunk_document(doc)
    pages = {c.page for c in chunks if "double freeze" in c.text}
    assert pages == {2}
    assert all(c.text == doc.text[c.start : c.end] for c in chunks)


def test_broken_pdf_is_named(tmp_path: Path) -> None:
    """A file that only pretends to be a PDF gives an error naming it."""
    (tmp_path / "fake.pdf").write_bytes(b"%PDF-1.4 garbage")
    with pytest.raises(SourceError, match=r"fake\.pdf"):
        load_document(tmp_path, "fake.pdf")
