"""Small real source files of every kind for the tests: PDFs made by hand, HTML pages, a mixed good-and-bad folder."""

from __future__ import annotations

from pathlib import Path


def tiny_pdf(pages: list[str], title: str, author: str | None = None, created: str | None = None) -> bytes:
    """A minimal valid PDF with one line of Helvetica text per page; `created` is a PDF date (D:20191129…)."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", ""]
    kids = []
    for text in pages:
        stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
        page_no = len(objects) + 1
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {page_no + 1} 0 R "
            "/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>"
        )
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream.decode()}\nendstream")
        kids.append(f"{page_no} 0 R")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>"
    info = (
        f"/Title ({title})"
        + (f" /Author ({author})" if author else "")
        + (f" /CreationDate ({created})" if created else "")
    )
    objects.append(f"<< {info} >>")
    out = b"%PDF-1.4\n"
    offsets = []
    for i, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{obj}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info {len(objects)} 0 R >>\n".encode()
    return out + f"startxref\n{xref}\n%%EOF\n".encode()


def article_html(
    paragraphs: list[str], title: str = "Six-party talks explained", head: str = "", foot: str = ""
) -> str:
    """An HTML page: navigation, an article with one <p> per paragraph, a footer; `head` goes into <head>."""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<html><head><title>{title}</title>{head}</head><body>"
        "<nav><a href='/'>Home</a> | <a href='/about'>About us</a></nav>"
        f"<article><h1>{title}</h1>{body}</article><footer>{foot}</footer></body></html>"
    )


# One good file of every supported kind, each with a sentence only it contains (the question that finds it).
GOOD = {
    "notes.txt": ("Field notes\n\nThe lighthouse keeper counted forty ships in the harbour of Wonsan.\n", "lighthouse"),
    "memo.md": (
        "---\ntitle: A memo on rail links\nauthor: Kim Minsu\ndate: 2018-09-19\n---\n# Rail\n\n"
        "The railway across the border was surveyed by engineers from both Koreas.\n",
        "railway",
    ),
    "page.html": (
        article_html(
            [
                "The orchard cooperative near Kaesong harvested apples for the first time in years.",
                "Visitors described the long rows of trees along the road to the factory park.",
            ],
            title="The orchard at Kaesong",
            head='<meta property="article:published_time" content="2019-04-02T08:00:00Z">',
            foot="Copyright 2024 Example News",
        ),
        "orchard",
    ),
}
GOOD_PDF = ("brief.pdf", ["The glacier survey team measured the ice near Mount Paektu in winter."], "glacier")
# A question for each good file that only that file answers.
QUESTIONS = {name: f"What does the text say about the {word}?" for name, (_text, word) in GOOD.items()}
QUESTIONS[GOOD_PDF[0]] = f"What does the text say about the {GOOD_PDF[2]}?"

# Files an admin might drop in by mistake: each must be skipped with its name and a reason, never stop the bot.
BAD = {
    "latin1.txt": "café au lait was served to the delegates.\n".encode("latin-1"),
    "binary.txt": bytes(range(256)) * 8,
    "fake.pdf": b"%PDF-1.4 this is not really a PDF",
    "broken.md": b"---\ntitle: [unclosed\n---\nThe text under a broken header is fine.\n",
    "empty.txt": b"",
    "nav.html": b"<html><body><nav><a href='/'>Home</a> <a href='/a'>About</a></nav></body></html>",
}
BAD_REASONS = {
    "latin1.txt": "not valid UTF-8",
    "binary.txt": "not text",
    "fake.pdf": "unreadable PDF",
    "broken.md": "bad YAML front matter",
    "empty.txt": "empty",
    "nav.html": "no",  # "no main text" or "no quotable text", depending on what the extractor keeps
}


def mixed_folder(root: Path, bad: bool = True) -> Path:
    """A sources folder with one good file of every kind (and, with `bad`, every kind of bad file)."""
    root.mkdir(parents=True, exist_ok=True)
    for name, (text, _word) in GOOD.items():
        (root / name).write_text(text, encoding="utf-8")
    name, pages, _word = GOOD_PDF
    (root / name).write_bytes(tiny_pdf(pages, "Ice survey", author="Park Jiwoo", created="D:20200115093000Z"))
    if bad:
        for name, data in BAD.items():
            (root / name).write_bytes(data)
    return root
