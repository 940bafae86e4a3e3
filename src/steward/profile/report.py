"""One self-contained HTML report of a product: profile charts, drift, metric and check history.

Everything is inline (CSS and SVG charts generated here): the file opens without a
network connection and can be mailed or attached to a ticket.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

from steward.profile import fmt
from steward.profile.anomaly import band
from steward.profile.drift import DEFAULT_THRESHOLDS, compare

W, H = 360, 120
CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1f2933;
background:#f5f7fa}
header{background:#102a43;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}
header .sub{opacity:.8;margin-top:4px}main{padding:8px 28px 40px}
h2{font-size:17px;margin:26px 0 10px;color:#243b53}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(390px,1fr));gap:14px}
.card{background:#fff;border:1px solid #d9e2ec;border-radius:8px;padding:12px 14px}
.card h3{margin:0 0 6px;font-size:15px}.card h3 .t{color:#829ab1;font-weight:400;font-size:12px}
table{border-collapse:collapse;font-size:12.5px}td,th{padding:3px 8px;text-align:left;
border-bottom:1px solid #eef2f6}th{color:#627d98;font-weight:600}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.kpis{display:flex;gap:12px;flex-wrap:wrap}.kpi{background:#fff;border:1px solid #d9e2ec;
border-radius:8px;padding:10px 16px}.kpi b{display:block;font-size:20px}
.kpi span{color:#627d98;font-size:12px}.bad{color:#c62828;font-weight:600}
.warn{color:#b26a00;font-weight:600}.ok{color:#2e7d32}.muted{color:#829ab1}
svg.chart{display:block;margin-top:6px}svg text{font:10px system-ui,sans-serif;fill:#627d98}
.legend{font-size:11px;color:#627d98}.sw{display:inline-block;width:10px;height:10px;
margin:0 4px 0 10px;vertical-align:-1px}
"""


def _e(v: Any) -> str:
    return html.escape("" if v is None else str(v))


# -- charts ---------------------------------------------------------------------------
def svg_histogram(col: dict[str, Any], prev: dict[str, Any] | None = None) -> str:
    """Bars of the column's histogram; the previous version's as an outline, same axis."""
    h = col["histogram"]
    counts, lo, hi = h["counts"], h["lo"], h["hi"]
    total = sum(counts) or 1
    ph = (prev or {}).get("histogram")
    x0, x1 = lo, hi
    if ph:
        x0, x1 = min(lo, ph["lo"]), max(hi, ph["hi"])
    span = (x1 - x0) or 1.0
    pad, bottom = 6, 18
    plot_h = H - bottom - 4

    def sx(x: float) -> float:
        if x1 == x0:
            return W / 2
        return pad + (x - x0) / span * (W - 2 * pad)

    shares = [c / total for c in counts]
    pshares: list[float] = []
    if ph:
        ptotal = sum(ph["counts"]) or 1
        pshares = [c / ptotal for c in ph["counts"]]
    top = max(shares + pshares) or 1.0
    parts = [f'<svg class="chart hist" data-bins="{len(counts)}" data-total="{total}" '
             f'width="{W}" height="{H}" viewBox="0 0 {W} {H}" role="img">']
    nb = len(counts)
    width = (hi - lo) / nb if hi > lo else 0
    # what fmt.stat reads of the column; each edge formatted once (a bar's right edge is
    # usually the next one's left)
    kind = {"kind": col.get("kind"), "type": col.get("type", "")}
    shown: dict[float, str] = {}

    def edge(x: float) -> str:
        got = shown.get(x)
        if got is None:
            got = shown[x] = fmt.stat({**kind, "v": x}, "v")
        return got

    for i, s in enumerate(shares):
        a = lo + i * width
        b = a + width
        xa, xb = (sx(a), sx(b)) if width else (W / 2 - 8, W / 2 + 8)
        bh = s / top * plot_h
        label = f"{edge(a)} – {edge(b)}: {fmt.num(counts[i])} ({s:.1%})"
        parts.append(f'<rect class="bar" x="{xa:.1f}" y="{4 + plot_h - bh:.1f}" '
                     f'width="{max(xb - xa - 1, 1):.1f}" height="{bh:.1f}" fill="#4098d7">'
                     f"<title>{_e(label)}</title></rect>")
    if ph and pshares:
        pw = (ph["hi"] - ph["lo"]) / len(pshares) if ph["hi"] > ph["lo"] else 0
        pts = []
        for i, s in enumerate(pshares):
            a = ph["lo"] + i * pw
            xa, xb = (sx(a), sx(a + pw)) if pw else (W / 2 - 8, W / 2 + 8)
            y = 4 + plot_h - s / top * plot_h
            pts += [f"{xa:.1f},{y:.1f}", f"{xb:.1f},{y:.1f}"]
        parts.append(f'<polyline class="prev" points="{" ".join(pts)}" fill="none" '
                     f'stroke="#f0b429" stroke-width="1.6"/>')
    parts.append(f'<line x1="{pad}" y1="{H - bottom + 0.5}" x2="{W - pad}" '
                 f'y2="{H - bottom + 0.5}" stroke="#bcccdc"/>')
    parts.append(f'<text x="{pad}" y="{H - 4}">{_e(fmt.stat({**col, "v": x0}, "v"))}</text>')
    parts.append(f'<text x="{W - pad}" y="{H - 4}" text-anchor="end">'
                 f'{_e(fmt.stat({**col, "v": x1}, "v"))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def svg_topk(col: dict[str, Any], prev: dict[str, Any] | None = None) -> str:
    """Horizontal bars of the most frequent values (share of non-null values)."""
    top = list(col.get("top") or [])
    count = col.get("count") or 1
    rows = top[:10]
    if col.get("top_other"):
        rows.append(["(other)", col["top_other"]])
    prev_share = {}
    if prev and prev.get("count"):
        prev_share = {str(k): n / prev["count"] for k, n in prev.get("top") or ()}
    bar_h, label_w = 16, 130
    height = len(rows) * bar_h + 4
    parts = [f'<svg class="chart topk" data-values="{len(rows)}" width="{W}" height="{height}" '
             f'viewBox="0 0 {W} {height}" role="img">']
    top_share = max([n / count for _, n in rows] + list(prev_share.values()), default=1.0) or 1.0
    for i, (k, n) in enumerate(rows):
        y = 2 + i * bar_h
        s = n / count
        bw = s / top_share * (W - label_w - 50)
        name = fmt.stat({"x": k}, "x") if k != "(other)" else "(other)"
        parts.append(f'<text x="{label_w - 6}" y="{y + 11}" text-anchor="end">{_e(name)}</text>')
        parts.append(f'<rect class="bar" x="{label_w}" y="{y + 2}" width="{max(bw, 1):.1f}" '
                     f'height="{bar_h - 5}" fill="{"#9fb3c8" if k == "(other)" else "#4098d7"}">'
                     f"<title>{_e(k)}: {fmt.num(n)} ({s:.1%})</title></rect>")
        if str(k) in prev_share:
            px = label_w + prev_share[str(k)] / top_share * (W - label_w - 50)
            parts.append(f'<line class="prev" x1="{px:.1f}" x2="{px:.1f}" y1="{y + 1}" '
                         f'y2="{y + bar_h - 2}" stroke="#f0b429" stroke-width="2"/>')
        parts.append(f'<text x="{label_w + bw + 4:.1f}" y="{y + 11}">{s:.1%}</text>')
    parts.append("</svg>")
    return "".join(parts)


def svg_series(values: list[float | None], labels: list[str], title: str) -> str:
    """A line over a metric's history with its usual band (robust z within +-3.5) shaded."""
    pts = [(i, v) for i, v in enumerate(values) if v is not None]
    if not pts:
        return ""
    hist = [v for _, v in pts]
    b = band(hist[:-1]) if len(hist) > 5 else None
    lo = min(hist + ([b[0]] if b else []))
    hi = max(hist + ([b[1]] if b else []))
    if hi == lo:
        lo, hi = lo - 1, hi + 1
    pad_l, pad, bottom = 52, 8, 16
    n = max(len(values) - 1, 1)

    def sx(i: int) -> float:
        return pad_l + i / n * (W - pad_l - pad)

    def sy(v: float) -> float:
        return pad + (hi - v) / (hi - lo) * (H - bottom - pad)

    parts = [f'<svg class="chart series" data-points="{len(pts)}" width="{W}" height="{H}" '
             f'viewBox="0 0 {W} {H}" role="img"><title>{_e(title)}</title>']
    if b:
        parts.append(f'<rect class="band" x="{pad_l}" y="{sy(b[1]):.1f}" width="{W - pad_l - pad}" '
                     f'height="{max(sy(b[0]) - sy(b[1]), 1):.1f}" fill="#e3f8ff"/>')
    line = " ".join(f"{sx(i):.1f},{sy(v):.1f}" for i, v in pts)
    parts.append(f'<polyline points="{line}" fill="none" stroke="#2680c2" stroke-width="1.8"/>')
    for i, v in pts:
        out = b is not None and i == len(values) - 1 and not (b[0] <= v <= b[1])
        parts.append(f'<circle cx="{sx(i):.1f}" cy="{sy(v):.1f}" r="{4 if out else 2.6}" '
                     f'fill="{"#c62828" if out else "#2680c2"}"><title>{_e(labels[i])}: '
                     f"{_e(fmt.num(v))}</title></circle>")
    parts.append(f'<text x="{pad_l - 4}" y="{sy(hi) + 8:.1f}" text-anchor="end">'
                 f"{_e(fmt.num(hi))}</text>")
    parts.append(f'<text x="{pad_l - 4}" y="{sy(lo):.1f}" text-anchor="end">'
                 f"{_e(fmt.num(lo))}</text>")
    parts.append("</svg>")
    return "".join(parts)


# -- sections -------------------------------------------------------------------------
def _column_card(name: str, col: dict[str, Any], prev: dict[str, Any] | None,
                 drift: dict[str, Any] | None) -> str:
    rows = [("count", fmt.num(col.get("count"))),
            ("nulls", f"{fmt.num(col.get('nulls'))} ({col.get('null_fraction', 0):.1%})"),
            ("distinct (approx.)" if col.get("distinct_approx") else "distinct",
             fmt.num(col.get("distinct")))]
    for key in ("min", "max", "mean", "std"):
        if col.get(key) is not None:
            rows.append((key, fmt.stat(col, key)))
    q = col.get("quantiles") or []
    if len(q) == 7 and q[0] is not None:
        for label, v in zip(("p1", "p5", "p25", "p50", "p75", "p95", "p99"), q, strict=True):
            if label in ("p5", "p50", "p95"):
                rows.append((label, fmt.stat({**col, "v": v}, "v")))
    for key in ("zeros", "negatives", "nan", "inf", "empty"):
        if col.get(key):
            rows.append((key, fmt.num(col[key])))
    if col.get("length"):
        ln = col["length"]
        rows.append(("length", f"{fmt.num(ln['min'])} .. {fmt.num(ln['max'])} "
                               f"(mean {fmt.num(ln['mean'])})"))
    if drift:
        bits = [f"{m} {drift[m]:.3f}" for m in ("psi", "ks", "wasserstein", "js")
                if drift.get(m) is not None]
        flag = any(drift.get(m) is not None and drift[m] > t for m, t in DEFAULT_THRESHOLDS.items())
        if bits:
            rows.append(("drift", f'<span class="{"bad" if flag else "ok"}">'
                                  f"{_e(', '.join(bits))}</span>"))
    table = "".join(f"<tr><th>{_e(k)}</th><td>{v if k == 'drift' else _e(v)}</td></tr>"
                    for k, v in rows)
    chart = ""
    if col.get("histogram"):
        chart = svg_histogram(col, prev if prev and prev.get("histogram") else None)
    elif col.get("unique"):
        chart = '<p class="muted">Nearly every value is distinct: no frequent values.</p>'
    elif col.get("top"):
        chart = svg_topk(col, prev)
    return (f'<div class="card col" data-column="{_e(name)}"><h3>{_e(name)} '
            f'<span class="t">{_e(col["type"].lower())} · {_e(col["kind"])}</span></h3>'
            f"<table>{table}</table>{chart}</div>")


def _drift_section(d: dict[str, Any] | None, prev_id: str | None) -> str:
    if d is None:
        return '<p class="muted">No previous version to compare with.</p>'
    s = d["schema"]
    notes = []
    for label, items in (("added", s["added"]), ("removed", s["removed"])):
        if items:
            notes.append(f"<li>columns {label}: <b>{_e(', '.join(items))}</b></li>")
    for name, old, new in s["retyped"]:
        notes.append(f"<li>column <b>{_e(name)}</b> retyped {_e(old)} → {_e(new)}</li>")
    change = d["row_change_pct"]
    head = (f"<p>Against version <code>{_e(prev_id)}</code>: rows {fmt.num(d['rows'][0])} → "
            f"{fmt.num(d['rows'][1])}" + (f" ({change:+.1f} %)" if change is not None else "")
            + "</p>")
    body = []
    for name, c in d["columns"].items():
        cells = []
        for m in ("psi", "ks", "wasserstein", "js"):
            v = c.get(m)
            if v is None:
                cells.append('<td class="n muted">–</td>')
            else:
                cls = "bad" if v > DEFAULT_THRESHOLDS[m] else ""
                cells.append(f'<td class="n {cls}">{v:.3f}</td>')
        n0, n1 = c["null_fraction"]
        body.append(f"<tr><td>{_e(name)}</td><td>{_e(c.get('kind'))}</td>"
                    f'<td class="n">{(n0 or 0):.1%} → {(n1 or 0):.1%}</td>{"".join(cells)}</tr>')
    table = ("<table><tr><th>column</th><th>kind</th><th>nulls</th><th>PSI</th><th>KS</th>"
             "<th>Wasserstein (σ)</th><th>JS</th></tr>" + "".join(body) + "</table>")
    return head + (f"<ul>{''.join(notes)}</ul>" if notes else "") + f'<div class="card">{table}' \
        f'<p class="legend">red: above the default threshold ({_e(DEFAULT_THRESHOLDS)})</p></div>'


def build_report(profiles: Any, product: str, env: str) -> str:
    """The report of ``product``'s current version in ``env``, as one HTML string."""
    ms = profiles.metastore
    v = profiles.resolve(product, env, env)
    prof = profiles.of_version(v) or {}
    prev_v = profiles.previous(v)
    prev = profiles.of_version(prev_v) if prev_v else None
    d = compare(prev, prof) if prev else None
    spec = ms.product_spec(product) or {}
    pcols = (prev or {}).get("columns", {})

    kpis = [("rows", fmt.num(prof.get("rows"))), ("columns", fmt.num(prof.get("column_count"))),
            ("size", fmt.size(prof.get("bytes"))),
            ("built", f"{v.created_at:%Y-%m-%d %H:%M}" if v.created_at else ""),
            ("checks", v.check_status or "–")]
    kpi_html = "".join(f'<div class="kpi"><b>{_e(val)}</b><span>{_e(k)}</span></div>'
                       for k, val in kpis)

    series_html = []
    for metric in ("row_count", "bytes", "build_duration_s", "check_pass_rate"):
        pts = profiles.metrics(product, metric, "")
        if not pts:
            continue
        svg = svg_series([p.value for p in pts],
                         [f"{p.at:%Y-%m-%d %H:%M} {p.version_id or ''}" for p in pts], metric)
        series_html.append(f'<div class="card"><h3>{_e(metric)} <span class="t">'
                           f"{len(pts)} points</span></h3>{svg}</div>")

    # distinct counts are exact unless sketched ("distinct_approx"); a format 1 profile
    # from DuckDB had HyperLogLog counts except on small-range columns
    legacy = prof.get("format", 1) < 2 and prof.get("engine") == "duckdb"
    cards = [_column_card(n, {**c, "distinct_approx": True}
                          if legacy and not c.get("exact") else c, pcols.get(n),
                          (d or {}).get("columns", {}).get(n))
             for n, c in prof.get("columns", {}).items()]

    from steward.meta.checks import results_for_versions

    recent = ms.versions(product, limit=30)
    stored = results_for_versions(ms, [v.id for v in recent])
    hist_rows = []
    for ver in recent:
        err = (ver.error or "").splitlines()[0][:160] if ver.error else ""
        res = stored.get(ver.id, [])
        bad = [f"{r.name} ({r.severity})" for r in res if r.status != "pass"]
        summary = (f"{len(res) - len(bad)}/{len(res)} passed" if res else "") + (
            ": " + ", ".join(bad) if bad else "")
        status = ver.check_status or ("fail" if ver.status == "failed" else "")
        cls = {"fail": "bad", "error": "bad", "warn": "warn"}.get(status, "ok")
        hist_rows.append(
            f"<tr><td><code>{_e(ver.id)}</code></td><td>"
            f"{_e(f'{ver.created_at:%Y-%m-%d %H:%M}' if ver.created_at else '')}</td>"
            f"<td>{_e(ver.status)}</td><td class='{cls}'>{_e(status or '–')}</td>"
            f'<td class="n">{_e(fmt.num(ver.row_count))}</td><td>{_e(summary)}</td>'
            f"<td>{_e(err)}</td></tr>")
    checks_html = ("<table><tr><th>version</th><th>built</th><th>status</th><th>checks</th>"
                   "<th>rows</th><th>results</th><th>error</th></tr>" + "".join(hist_rows)
                   + "</table>")
    legend = ('<p class="legend"><span class="sw" style="background:#4098d7"></span>this version'
              '<span class="sw" style="background:#f0b429"></span>previous version'
              '<span class="sw" style="background:#e3f8ff"></span>usual band (robust z ≤ 3.5)</p>')
    now = datetime.now(UTC)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(product)} — Steward report</title><style>{CSS}</style></head>
<body><header><h1>{_e(product)}</h1>
<div class="sub">{_e(spec.get("description") or "")} · owner {_e(spec.get("owner") or "–")} ·
env {_e(env)} · version <code>{_e(v.id)}</code></div></header><main>
<div class="kpis">{kpi_html}</div>
<h2>Metric history</h2>{legend}<div class="grid">{"".join(series_html)}</div>
<h2>Drift against the previous version</h2>{_drift_section(d, prev_v.id if prev_v else None)}
<h2>Columns</h2><div class="grid">{"".join(cards)}</div>
<h2>Check history</h2><div class="card">{checks_html}</div>
<p class="muted">Generated by Steward at {now:%Y-%m-%d %H:%M} UTC. Versions of up to
100,000 rows are profiled exactly. For larger ones top values are exact, distinct counts
exact up to 1,000,000 rows (above, a sketch within 2 %), and quantiles approximate
(T-Digest) except on integer and date columns of small range.</p>
</main></body></html>
"""
