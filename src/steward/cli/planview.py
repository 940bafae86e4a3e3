"""``steward plan``'s output, for the Typer command and the executable's fast path alike."""

from __future__ import annotations

from typing import Any

from steward.cli.text import dump_json, out_console

_CAT = {"breaking": "bold red", "non-breaking": "yellow", "metadata-only": "cyan"}


def show_plan(cp: Any, json_out: bool) -> None:
    """Print a ChangePlan: its ``--json`` document, or a summary for people."""
    doc = cp.to_json()
    if json_out:
        dump_json(doc)
        return
    out = out_console()
    s = doc["summary"]
    where = cp.env + ("" if cp.env_exists else f" (new, from '{cp.compared_with}')")
    out.print(f"plan for '{where}': {s['build']} to build, {s['reuse']} to reuse, "
              f"{s['keep']} unchanged, {s['remove']} removed")
    if not doc["changes"] and not s["build"] and not s["reuse"] and not s.get("recheck"):
        out.print("[green]no changes[/]")
    for c in doc["changes"]:
        style = _CAT.get(c["category"] or "", "")
        out.print(f"\n[{style}]{c['category']}[/] {c['product']} ({c['action']})"
                  + (f"  owner: {c['owner']}" if c["owner"] else ""))
        for r in c["reasons"]:
            out.print(f"    - {r}")
        for d in c["downstream"]:
            what = "rebuild" if d["action"] == "build" else f"keeps its data ({d['action']})"
            uses = f" uses {', '.join(d['uses'])}" if d.get("uses") else ""
            out.print(f"    -> {d['product']}: {what}{uses}"
                      + (f"  [dim]{d['owner']}[/]" if d["owner"] else ""))
        if c["affected_owners"]:
            out.print(f"    owners to notify: {', '.join(c['affected_owners'])}")
    behind = [p for p in doc["products"] if p.get("behind") and not p["direct"]]
    for p in behind:
        out.print(f"[yellow]behind[/] {p['product']}: built from an older version of "
                  f"{', '.join(p['behind'])} ({p['action']})")
    for p in doc["products"]:
        if p.get("recheck") is not False and p["action"] in ("keep", "reuse"):
            out.print(f"[cyan]re-check[/] {p['product']}: "
                      + ("its checks are evaluated again on its current version"
                         if p["recheck"] else "checked again if what its checks read changes"))
    for p in doc.get("damaged") or ():
        out.print(f"[bold red]damaged[/] {p['product']}: its version cannot be used "
                  f"({p['problem']}); it is rebuilt")
    for p in doc.get("stale") or ():
        out.print(f"[yellow]stale[/] {p['product']} (not selected): built from an older "
                  f"version of {', '.join(p['behind'])}; select it to rebuild")
    blocked = [p for p in doc["products"] if p["action"] == "blocked"]
    for p in blocked:
        out.print(f"[yellow]blocked[/] {p['product']}: {'; '.join(p['reasons'])}")
