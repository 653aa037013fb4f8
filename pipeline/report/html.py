"""The page: a handful of HTML builders and one stylesheet, no script, nothing fetched.

The Content-Security-Policy forbids every network load (images are data: URIs), so a report
that opens at all opens offline, and a browser would say so in its console if anything
tried to load.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1f2933;
background:#f5f7fa}
header{background:#1f2933;color:#fff;padding:14px 28px}
header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;color:#cbd2d9}
nav{position:sticky;top:0;background:#fff;border-bottom:1px solid #d9e2ec;padding:6px 28px;
z-index:1}
nav a{margin-right:16px;color:#3b6ea8;text-decoration:none;font-weight:600}
main{padding:0 28px 40px;max-width:1200px}
section{background:#fff;border:1px solid #d9e2ec;border-radius:6px;margin:18px 0;
padding:4px 18px 14px}
h2{font-size:17px;border-bottom:1px solid #e4e7eb;padding-bottom:4px}
h3{font-size:14px;margin:16px 0 6px}
.grid{display:flex;flex-wrap:wrap;gap:14px;align-items:flex-start}
.grid>figure{margin:0;flex:1 1 480px;max-width:820px}
figure img{width:100%;height:auto}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:8px 0}
.card{border:1px solid #d9e2ec;border-radius:6px;padding:6px 12px;min-width:120px}
.card b{display:block;font-size:18px}
.card span{color:#616e7c;font-size:12px}
table{border-collapse:collapse;margin:6px 0;font-size:13px}
th,td{border-bottom:1px solid #e4e7eb;padding:3px 10px 3px 0;text-align:left;vertical-align:top}
td.num,th.num{text-align:right}
.note{color:#616e7c}
.warn{color:#b3261e;font-weight:600}
.ok{color:#2f7d32}
.sheet td{padding:4px 10px 4px 0}
.sheet img{image-rendering:pixelated;height:48px;width:auto}
details{margin:6px 0}
pre{background:#f5f7fa;padding:8px;overflow:auto;font-size:12px;max-height:360px}
"""


def fmt(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return str(v).lower() if isinstance(v, bool) else "–"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if v != v:
            return "–"
        return f"{v:,.0f}" if abs(v) >= 1e4 else f"{v:.4g}"
    if isinstance(v, dict | list):
        return json.dumps(v, sort_keys=True)
    return str(v)


def table(header: Sequence[str], rows: Iterable[Sequence[Any]], cls: str = "") -> str:
    rows = list(rows)
    num = [
        all(isinstance(r[i], int | float) and not isinstance(r[i], bool) for r in rows)
        and bool(rows)
        for i in range(len(header))
    ]

    def cell(tag: str, v: Any, i: int) -> str:
        c = ' class="num"' if num[i] else ""
        return f"<{tag}{c}>{v if tag == 'th' else escape(fmt(v))}</{tag}>"

    head = "".join(cell("th", escape(h), i) for i, h in enumerate(header))
    body = "".join(
        "<tr>" + "".join(cell("td", v, i) for i, v in enumerate(r)) + "</tr>" for r in rows
    )
    attr = f' class="{cls}"' if cls else ""
    return f"<table{attr}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def kv_table(d: dict[str, Any]) -> str:
    return table(("metric", "value"), [(k, v) for k, v in d.items()])


def cards(items: Iterable[tuple[str, Any]]) -> str:
    inner = "".join(
        f'<div class="card"><b>{escape(fmt(v))}</b><span>{escape(k)}</span></div>' for k, v in items
    )
    return f'<div class="cards">{inner}</div>'


def img(uri: str, alt: str, cls: str = "") -> str:
    c = f' class="{cls}"' if cls else ""
    return f'<img{c} src="{uri}" alt="{escape(alt)}">'


def figures(*uris_alts: tuple[str, str]) -> str:
    return (
        '<div class="grid">'
        + "".join(f"<figure>{img(u, a)}</figure>" for u, a in uris_alts)
        + "</div>"
    )


def note(text: str) -> str:
    return f'<p class="note">{escape(text)}</p>'


def details(summary: str, body: str, open_: bool = False) -> str:
    tag = "<details open>" if open_ else "<details>"
    return f"{tag}<summary>{escape(summary)}</summary>{body}</details>"


def pre_json(obj: Any) -> str:
    return f"<pre>{escape(json.dumps(obj, indent=2, sort_keys=True))}</pre>"


def section(key: str, title: str, body: str) -> str:
    return f'<section id="{key}" data-section="{key}"><h2>{escape(title)}</h2>{body}</section>'


def page(title: str, subtitle: str, sections: list[tuple[str, str, str]]) -> str:
    nav = "".join(f'<a href="#{k}">{escape(t)}</a>' for k, t, _ in sections)
    body = "".join(section(k, t, b) for k, t, b in sections)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{escape(title)}</h1><p>{escape(subtitle)}</p></header>"
        f"<nav>{nav}</nav><main>{body}</main></body></html>\n"
    )
