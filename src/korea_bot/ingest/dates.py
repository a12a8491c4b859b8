"""Publication dates from real metadata only (front matter, <meta>, JSON-LD, <time>, PDF info), never from text."""

from __future__ import annotations

import json
import re

_ISO_DATE = re.compile(r"((?:1[5-9]|20)\d\d)(?:-(\d\d)(?:-(\d\d))?)?(?!\d)")
# <meta> names and properties that hold a publication date (never a date guessed from the page's text).
DATE_META = (
    "article:published_time",
    "og:published_time",
    "datepublished",
    "citation_publication_date",
    "citation_date",
    "dc.date.issued",
    "dc.date",
    "dcterms.issued",
    "dcterms.date",
    "dcterms.created",
    "publication_date",
    "publish-date",
    "pubdate",
    "date",
)


def iso_date(value: str) -> str | None:
    """`YYYY-MM-DD` (or `YYYY-MM`, `YYYY`) from the start of an ISO-like date or timestamp; None if it is not one."""
    match = _ISO_DATE.match(value.strip())
    if not match:
        return None
    year, month, day = match.group(1), match.group(2), match.group(3)
    if (month and not 1 <= int(month) <= 12) or (day and not 1 <= int(day) <= 31):
        return None
    return "-".join(part for part in (year, month, day) if part)


def html_date(html: str) -> str | None:
    """The publication date from the page's metadata: <meta>, JSON-LD datePublished, or <time datetime>."""
    from lxml import etree
    from lxml import html as lxml_html

    try:
        tree = lxml_html.fromstring(html)
    except (etree.ParserError, ValueError):
        return None
    metas: dict[str, str] = {}
    for el in tree.iter("meta"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
        if key and el.get("content") and key not in metas:
            metas[key] = el.get("content", "")
    candidates = [metas[k] for k in DATE_META if k in metas]
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        candidates.extend(_json_ld_dates(script.text or ""))
    times = tree.xpath("//time[@datetime]")
    candidates.extend(t.get("datetime", "") for t in sorted(times, key=lambda t: t.get("itemprop") != "datePublished"))
    for value in candidates:
        date = iso_date(value)
        if date:
            return date
    return None


def _json_ld_dates(text: str) -> list[str]:
    """datePublished values of a JSON-LD block (an object, a list of them, or an @graph)."""
    try:
        data = json.loads(text)
    except ValueError:
        return []
    items = data if isinstance(data, list) else [data]
    items += [g for d in items if isinstance(d, dict) for g in d.get("@graph", []) if isinstance(g, dict)]
    return [str(d["datePublished"]) for d in items if isinstance(d, dict) and d.get("datePublished")]
