"""A report as a list of blocks, written as Markdown or as one self-contained HTML page.

Blocks are tuples: ``("h", level, text)``, ``("p", text)``, ``("list", items)`` (each item a string or
``(text, [sub-items])``; numbered when ``("olist", items)``), ``("table", header, rows)`` and
``("img", title, png_bytes)`` (HTML only; base64-embedded). Text may use ``**bold**`` and `` `code` ``.
"""
from __future__ import annotations

import base64
import html
import re
from typing import Any

Block = tuple

_INLINE = re.compile(r"\*\*(.+?)\*\*|`([^`]+)`")


def to_markdown(blocks: list[Block]) -> str:
    """Markdown of ``blocks`` (images left out)."""
    out: list[str] = []
    for b in blocks:
        kind = b[0]
        if kind == "h":
            out += ["#" * b[1] + " " + b[2], ""]
        elif kind == "p":
            out += [b[1], ""]
        elif kind in ("list", "olist"):
            for n, item in enumerate(b[1], 1):
                text, subs = (item, []) if isinstance(item, str) else item
                out.append(f"{n}. {text}" if kind == "olist" else f"- {text}")
                out += [f"   - {s}" for s in subs]
            out.append("")
        elif kind == "table":
            out.append("| " + " | ".join(_md_cell(h) for h in b[1]) + " |")
            out.append("|" + "---|" * len(b[1]))
            out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in b[2]]
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def _md_cell(c: Any) -> str:
    return str(c).replace("|", "\\|")


def _inline(text: str) -> str:
    parts, last = [], 0
    for m in _INLINE.finditer(text):
        parts.append(html.escape(text[last:m.start()]))
        parts.append(f"<strong>{html.escape(m.group(1))}</strong>" if m.group(1) is not None
                     else f"<code>{html.escape(m.group(2))}</code>")
        last = m.end()
    parts.append(html.escape(text[last:]))
    return "".join(parts)


def _cell(c: Any) -> str:
    text = str(c)
    mark = ' class="fail"' if "✗" in text else (' class="pass"' if "✓" in text else "")
    return f"<td{mark}>{_inline(text)}</td>"


_STYLE = """body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;line-height:1.45;
color:#1a1a1a}table{border-collapse:collapse;margin:.5rem 0 1rem}td,th{border:1px solid #ccc;padding:.25rem .6rem;
text-align:left}th{background:#f3f3f3}td.fail{background:#fde2e2}td.pass{background:#e3f6e3}
code{background:#f3f3f3;padding:0 .2rem}img{max-width:100%;border:1px solid #eee;margin:.5rem 0}
h1,h2,h3,h4{margin-top:1.6rem}"""


def to_html(blocks: list[Block], title: str) -> str:
    """One self-contained HTML page of ``blocks`` (images embedded as base64 PNG)."""
    body: list[str] = []
    for b in blocks:
        kind = b[0]
        if kind == "h":
            body.append(f"<h{b[1]}>{_inline(b[2])}</h{b[1]}>")
        elif kind == "p":
            body.append(f"<p>{_inline(b[1])}</p>")
        elif kind in ("list", "olist"):
            tag = "ol" if kind == "olist" else "ul"
            items = []
            for item in b[1]:
                text, subs = (item, []) if isinstance(item, str) else item
                inner = "".join(f"<li>{_inline(s)}</li>" for s in subs)
                items.append(f"<li>{_inline(text)}{f'<ul>{inner}</ul>' if subs else ''}</li>")
            body.append(f"<{tag}>{''.join(items)}</{tag}>")
        elif kind == "table":
            head = "".join(f"<th>{_inline(str(h))}</th>" for h in b[1])
            rows = "".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in b[2])
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        elif kind == "img":
            data = base64.b64encode(b[2]).decode("ascii")
            body.append(f'<figure><img alt="{html.escape(b[1])}" src="data:image/png;base64,{data}">'
                        f"<figcaption>{_inline(b[1])}</figcaption></figure>")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{_STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
