"""Draw docs/discord-answer.png: a real /ask answer, drawn from the bot's own embed dicts and buttons.

Run: python docs/discord_mockup.py  (the bundled article and model, as the bot answers it; needs pillow +
matplotlib from the bench extra). --model hash:64 --out FILE draws with the fake model (what the test runs).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

import matplotlib
from PIL import Image, ImageDraw, ImageFont

from korea_bot.adapters.discord import render as discord_render
from korea_bot.adapters.discord.ui import ACTIONS, AnswerButton
from korea_bot.config import DEFAULT_MODEL, load_settings
from korea_bot.service import Service

QUESTION = "Why can't Russia stay out of the Korean crisis?"  # the README's first question
FONTS = Path(matplotlib.__file__).parent / "mpl-data" / "fonts" / "ttf"
EMOJI_FONT = Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")  # Debian: fonts-noto-color-emoji (optional)
W, PAD, CARD_X, TEXT_W = 900, 24, 88, 740
BG, CARD, BAR, TEXT, MUTED, LINK = "#313338", "#2b2d31", "#2f6fb5", "#dbdee1", "#949ba4", "#00a8fc"


def font(bold: bool = False, size: int = 15) -> ImageFont.FreeTypeFont:
    """DejaVu Sans from matplotlib's bundled fonts."""
    return ImageFont.truetype(str(FONTS / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")), size)


def emoji(char: str, size: int) -> Image.Image | None:
    """A colour emoji as a ``size``-pixel image, or None without the Noto Color Emoji font (it has one size: 109)."""
    if not EMOJI_FONT.exists():
        return None
    big = Image.new("RGBA", (136, 128), (0, 0, 0, 0))
    ImageDraw.Draw(big).text((0, 0), char, font=ImageFont.truetype(str(EMOJI_FONT), 109), embedded_color=True)
    box = big.getbbox()
    return big.crop(box).resize((size, size)) if box else None


def spans(markdown: str) -> list[tuple[str, bool]]:
    """(text, bold) runs of the displayed description: escapes resolved, ** toggling bold."""
    out: list[tuple[str, bool]] = []
    bold, buf, i = False, "", 0
    while i < len(markdown):
        if markdown[i] == "\\" and i + 1 < len(markdown) and not markdown[i + 1].isalnum():
            buf += markdown[i + 1]
            i += 2
        elif markdown.startswith("**", i):
            out.append((buf, bold))
            bold, buf, i = not bold, "", i + 2
        else:
            buf += markdown[i]
            i += 1
    out.append((buf, bold))
    return [s for s in out if s[0]]


def layout(runs: list[tuple[str, bool]], width: int) -> list[list[tuple[str, bool]]]:
    """Wrap word runs into lines no wider than ``width`` pixels."""
    lines: list[list[tuple[str, bool]]] = [[]]
    x = 0.0
    for text, bold in runs:
        for word in re.findall(r"\s*\S+\s*", text):
            w = font(bold).getlength(word)
            if x + w > width and lines[-1]:
                lines.append([])
                x = 0.0
            lines[-1].append((word, bold))
            x += w
    return lines


def draw(embeds: list[dict], path: Path) -> None:
    """Paint the message: avatar, name, embeds with quote bars, footer, buttons."""
    blocks = [(e, layout(spans(e["description"].removeprefix(">>> ")), TEXT_W - 40)) for e in embeds]
    height = 90 + sum(70 + 21 * len(lines) for _, lines in blocks) + 70
    img = Image.new("RGB", (W, height), BG)
    d = ImageDraw.Draw(img)
    d.ellipse((PAD, PAD, PAD + 44, PAD + 44), fill=BAR)
    d.text((PAD + 12, PAD + 10), "K", font=font(True, 20), fill="white")
    d.text((CARD_X, PAD), "korea_bot", font=font(True, 16), fill="white")
    d.rounded_rectangle((CARD_X + 92, PAD + 2, CARD_X + 128, PAD + 19), 3, fill="#5865f2")
    d.text((CARD_X + 97, PAD + 3), "APP", font=font(True, 11), fill="white")
    d.text((CARD_X + 138, PAD + 2), f"used /ask  “{QUESTION}”", font=font(size=13), fill=MUTED)
    y = PAD + 34
    for embed, lines in blocks:
        h = 58 + 21 * len(lines) + (22 if "footer" in embed else 0)
        d.rounded_rectangle((CARD_X, y, CARD_X + TEXT_W, y + h), 4, fill=CARD)
        d.rectangle((CARD_X, y, CARD_X + 4, y + h), fill=BAR)
        d.text((CARD_X + 16, y + 12), embed["title"], font=font(True, 15), fill=LINK if embed.get("url") else "white")
        d.rectangle((CARD_X + 16, y + 40, CARD_X + 19, y + 40 + 21 * len(lines)), fill="#4e5058")
        for n, line in enumerate(lines):
            x = CARD_X + 30
            for word, bold in line:
                d.text((x, y + 40 + 21 * n), word, font=font(bold), fill="white" if bold else TEXT)
                x += font(bold).getlength(word)
        if "footer" in embed:
            d.text((CARD_X + 16, y + h - 26), embed["footer"]["text"], font=font(size=12), fill=MUTED)
        y += h + 8
    x = CARD_X
    for action in ACTIONS:  # the bot's own buttons, in its order, with its labels and styles
        label, mark, style = AnswerButton.LOOK[action]
        picture = emoji(mark, 18) if mark and not label else None
        text = label or ("" if picture else {"👍": "+1", "👎": "-1"}.get(mark or "", mark or ""))
        w = (picture.width if picture else int(font(size=14).getlength(text))) + 28
        d.rounded_rectangle((x, y + 6, x + w, y + 38), 4, fill="#5865f2" if style.name == "primary" else "#4e5058")
        if picture:
            img.paste(picture, (x + 14, y + 13), picture)
        else:
            d.text((x + 14, y + 14), text, font=font(size=14), fill="white")
        x += w + 8
    img.save(path)


def main(argv: list[str] | None = None) -> int:
    """Answer QUESTION from the bundled sources with the bot's defaults and draw the reply."""
    root = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL, help="embedding model (default: the bundled one)")
    parser.add_argument("--out", type=Path, default=root / "docs" / "discord-answer.png", help="the PNG to write")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        sources = root / "docs_index" / "sources"
        service = Service(load_settings(sources_dir=sources, index_dir=Path(tmp), model=args.model))
        service.ensure_index()
        answer = service.ask(QUESTION)
    msg = discord_render.render_answer(answer)
    if not msg.embeds:
        print(f"no answer to draw: {msg.content}", file=sys.stderr)
        return 1
    draw(msg.embeds, args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
