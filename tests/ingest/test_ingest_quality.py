"""What an admin's own files become: bad files named with a reason, HTML and PDF paragraphs, dates from metadata."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from helpers.documents import BAD, BAD_REASONS, article_html, tiny_pdf

from korea_bot.errors import SourceError
from korea_bot.ingest.chunking import chunk_document
from korea_bot.ingest.dates import html_date, iso_date
from korea_bot.ingest.sources import load_document, read_bytes, scan

SENTENCES = [
    "The six-party talks brought the regional powers together on the peninsula for the first time.",
    "Each round ended with a statement that the delegations had agreed to meet again.",
    "The last round, in 2007, produced an agreement on disabling the reactor at Yongbyon.",
]


@pytest.mark.parametrize("name", sorted(BAD))
def test_every_kind_of_bad_file_is_refused_with_its_name_and_a_reason(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(BAD[name])
    with pytest.raises(SourceError) as err:
        load_document(tmp_path, name)
    message = str(err.value)
    assert message.startswith(name) and BAD_REASONS[name] in message, message
    assert "\n" not in message


def test_latin1_and_binary_messages_say_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "latin1.txt").write_bytes(BAD["latin1.txt"])
    with pytest.raises(SourceError, match=r"latin1\.txt is not valid UTF-8 \(byte 3\): convert it to UTF-8"):
        load_document(tmp_path, "latin1.txt")
    (tmp_path / "binary.txt").write_bytes(BAD["binary.txt"])
    with pytest.raises(SourceError, match=r"binary\.txt is not text \(it holds NUL bytes"):
        load_document(tmp_path, "binary.txt")


def test_bad_front_matter_names_its_line(tmp_path: Path) -> None:
    (tmp_path / "b.md").write_text("---\ntitle: ok\nauthor: [unclosed\n---\nA sentence.\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"b\.md: bad YAML front matter at line 3"):
        load_document(tmp_path, "b.md")


def test_size_limit_names_the_size_the_limit_and_the_setting(tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_text("A sentence that repeats.\n" * 50_000, encoding="utf-8")  # 1.25 MB
    with pytest.raises(SourceError) as err:
        read_bytes(tmp_path, "big.txt", max_bytes=1_000_000)
    assert str(err.value) == (
        "big.txt: 1.2 MB is over the 1 MB size limit (KOREA_BOT_MAX_FILE_MB): split the file or raise the limit"
    )
    assert len(read_bytes(tmp_path, "big.txt", max_bytes=2_000_000)) == 1_250_000


def test_headings_only_text_has_no_quotable_text(tmp_path: Path) -> None:
    (tmp_path / "toc.txt").write_text("Contents\n\nChapter one\n\nChapter two\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"toc\.txt: no quotable text"):
        load_document(tmp_path, "toc.txt")


def test_navigation_only_page_is_rejected_even_when_the_extractor_keeps_a_word(tmp_path: Path) -> None:
    page = "<html><head><title>Site</title></head><body><main><p>Home</p></main><nav><a>About</a></nav></body></html>"
    (tmp_path / "home.html").write_text(page, encoding="utf-8")
    with pytest.raises(SourceError, match=r"home\.html: no (quotable|main) text"):
        load_document(tmp_path, "home.html")


def test_links_out_of_the_folder_are_reported_not_read(tmp_path: Path) -> None:
    root = tmp_path / "src"
    root.mkdir()
    (tmp_path / "secret.txt").write_text("Outside the folder.", encoding="utf-8")
    (root / "link.txt").symlink_to(tmp_path / "secret.txt")
    (root / "ok.txt").write_text("Inside the folder.", encoding="utf-8")
    found = scan(root)
    assert found.names == ["ok.txt"]
    assert list(found.rejected) == ["link.txt"] and "outside the sources folder" in found.rejected["link.txt"]


def test_html_paragraphs_are_numbered_separately(tmp_path: Path) -> None:
    (tmp_path / "talks.html").write_text(article_html(SENTENCES), encoding="utf-8")
    doc = load_document(tmp_path, "talks.html")
    chunks = chunk_document(doc)
    numbers = {s: {c.paragraph for c in chunks if s in c.text} for s in SENTENCES}
    assert numbers == {SENTENCES[0]: {1}, SENTENCES[1]: {2}, SENTENCES[2]: {3}}
    assert all(c.text == doc.text[c.start : c.end] for c in chunks)


def test_a_footer_copyright_year_is_never_the_date(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text(article_html(SENTENCES, foot="Copyright 2024 Example News"), encoding="utf-8")
    assert load_document(tmp_path, "a.html").date is None
    dated = article_html(SENTENCES, head='<meta name="date" content="2019-11-29">', foot="© 2024 Example News")
    (tmp_path / "b.html").write_text(dated, encoding="utf-8")
    assert load_document(tmp_path, "b.html").date == "2019-11-29"


@pytest.mark.parametrize(
    ("head", "body", "date"),
    [
        ('<meta property="article:published_time" content="2017-12-05T10:00:00+03:00">', "", "2017-12-05"),
        (
            '<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2018-06-12"}</script>',
            "",
            "2018-06-12",
        ),
        ("", '<time datetime="2016-01-06">6 January</time>', "2016-01-06"),
        ("", "<p>Published on 3 March 2015. Copyright 2024.</p>", None),
    ],
)
def test_html_dates_come_from_metadata_only(head: str, body: str, date: str | None) -> None:
    assert html_date(f"<html><head>{head}</head><body>{body}</body></html>") == date


def test_iso_dates() -> None:
    assert iso_date("2019-11-29T10:00:00Z") == "2019-11-29" and iso_date("2019") == "2019"
    assert iso_date("2019-13-01") is None and iso_date("Nov 2019") is None


def test_front_matter_date_is_iso(tmp_path: Path) -> None:
    (tmp_path / "m.md").write_text("---\ndate: 2018-01-02 10:00:00\n---\nA sentence here.\n", encoding="utf-8")
    assert load_document(tmp_path, "m.md").date == "2018-01-02"


def test_pdf_paragraphs_are_numbered_within_their_page(tmp_path: Path) -> None:
    pages = ["Russia borders on North Korea.", "The double freeze plan stops tests and drills.", "A third page."]
    (tmp_path / "p.pdf").write_bytes(tiny_pdf(pages, "Brief", author="A. Writer", created="D:20191129103000+03'00'"))
    doc = load_document(tmp_path, "p.pdf")
    chunks = chunk_document(doc)
    assert [(c.page, c.paragraph) for c in chunks] == [(1, 1), (2, 1), (3, 1)]
    assert (doc.author, doc.date) == ("A. Writer", "2019-11-29")


def test_encrypted_pdf_says_so(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(tiny_pdf(["Secret words here."], "S"))))
    writer.encrypt("pw")
    with open(tmp_path / "locked.pdf", "wb") as fh:
        writer.write(fh)
    with pytest.raises(SourceError, match=r"locked\.pdf: the PDF is encrypted"):
        load_document(tmp_path, "locked.pdf")


def test_the_same_page_read_twice_in_one_process_gives_the_same_text(tmp_path: Path) -> None:
    """A rebuild in the same process (--watch, /reindex, --full) must not find the page empty the second time."""
    (tmp_path / "a.html").write_text(article_html(SENTENCES), encoding="utf-8")
    (tmp_path / "copy.html").write_text(article_html(SENTENCES), encoding="utf-8")
    texts = {load_document(tmp_path, name).text for name in ("a.html", "a.html", "copy.html")}
    assert len(texts) == 1 and SENTENCES[2] in texts.pop()


def test_an_html_page_in_its_declared_charset_is_read_and_quoted(tmp_path: Path) -> None:
    """A page saved as windows-1252 (as its <meta> says) reads; a page whose bytes contradict its label is refused."""
    body = "<p>Pyongyang \u201ctested\u201d a missile in 2017 \u2013 the Kremlin objected, said the caf\u00e9 owner.</p>"
    for label in ("windows-1252", "ISO-8859-1"):
        page = f'<html><head><meta charset="{label}"><title>Notes</title></head><body>{body}</body></html>'
        (tmp_path / "notes.html").write_bytes(page.encode("cp1252"))
        doc = load_document(tmp_path, "notes.html")
        assert "Pyongyang \u201ctested\u201d a missile in 2017 \u2013 the Kremlin objected" in doc.text, label
    legacy = '<meta http-equiv="Content-Type" content="text/html; charset=koi8-r"><p>Москва возразила против этого.</p>'
    (tmp_path / "ru.html").write_bytes(legacy.encode("koi8-r"))
    assert "Москва возразила" in load_document(tmp_path, "ru.html").text
    bom = '\ufeff<meta charset="windows-1252"><p>Pyongyang \u201ctested\u201d a missile again that year.</p>'
    (tmp_path / "bom.html").write_bytes(bom.encode())  # the UTF-8 byte order mark wins over the <meta>
    assert "Pyongyang \u201ctested\u201d a missile again" in load_document(tmp_path, "bom.html").text
    (tmp_path / "bad.html").write_bytes(b'<meta charset="windows-1252"><p>A byte \x81 no codec maps.</p>')
    with pytest.raises(SourceError, match=r"bad\.html is not valid windows-1252 as its <meta> declares \(byte \d+\)"):
        load_document(tmp_path, "bad.html")
    (tmp_path / "odd.html").write_bytes(b'<meta charset="klingon-8"><p>Some text here.</p>')
    with pytest.raises(SourceError, match=r"odd\.html declares an unknown charset 'klingon-8'"):
        load_document(tmp_path, "odd.html")


def test_a_utf8_bom_is_dropped_and_utf16_is_named(tmp_path: Path) -> None:
    """Notepad's UTF-8 BOM is not part of the title or the first quote; a UTF-16 file says how to convert it."""
    (tmp_path / "bom.txt").write_bytes("\ufeffTalks in Beijing\n\nThe talks resumed in the spring.\n".encode())
    doc = load_document(tmp_path, "bom.txt")
    assert doc.text.startswith("Talks in Beijing") and doc.title == "Talks in Beijing"
    (tmp_path / "wide.txt").write_bytes("Talks in Beijing\n\nThe talks resumed.\n".encode("utf-16"))
    with pytest.raises(SourceError, match=r"wide\.txt is UTF-16 text: convert it to UTF-8, e\.g\. `iconv -f utf-16"):
        load_document(tmp_path, "wide.txt")
