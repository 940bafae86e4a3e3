"""Personal-data detection: which columns of a version hold PII, by sampling their values.

Each detector decides for one value; a column is proposed for a classification when a
large enough fraction of its sampled non-null values match. Validators keep precision
up: card numbers must pass the Luhn check and carry a known issuer prefix, IBANs the
ISO 13616 mod-97 check and their country's length, IP addresses must parse with
:mod:`ipaddress`, US SSNs exclude the never-issued ranges. Person names are looked for
only in columns whose names suggest people (``first_name``, ``customer``...), since a
capitalised word is otherwise just as likely a city or a product.

Sampling happens inside the engine (:func:`sample_columns`), except for a version no
larger than the sample: its text columns are read straight from its Parquet files, since
the whole table is the sample (the same values a reservoir sample would return).
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from steward.sql.parse import DIALECT

KINDS = ("email", "phone", "payment_card", "iban", "national_id", "ip_address", "person_name")

# A declared classification counts as PII when it is one of these or starts with "pii".
PII_LABELS = frozenset({"pii", "personal", "personal_data", "sensitive", "gdpr", "phi", "pci"})
# ...and as a deliberate "this is not personal data" when it is one of these.
NOT_PII_LABELS = frozenset({"public", "not_pii", "non_pii", "no_pii", "anonymous", "anonymised",
                            "anonymized", "pseudonymised", "pseudonymized"})

# Minimum fraction of sampled non-null values that must match for a proposal.
THRESHOLD = {"email": 0.5, "phone": 0.6, "payment_card": 0.5, "iban": 0.5,
             "national_id": 0.6, "ip_address": 0.6, "person_name": 0.6}


def is_pii_label(label: str) -> bool:
    low = label.lower()
    return low in PII_LABELS or low.startswith(("pii", "personal"))


def declared_state(classification: Iterable[str]) -> str | None:
    """'pii' if declared personal, 'not_pii' if declared otherwise on purpose, else None."""
    labels = [c.lower() for c in classification]
    if any(is_pii_label(c) for c in labels):
        return "pii"
    if any(c in NOT_PII_LABELS for c in labels):
        return "not_pii"
    return None


# -- column names ---------------------------------------------------------------------
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def name_tokens(column: str) -> list[str]:
    return [t for t in re.split(r"[^a-z0-9]+", _CAMEL.sub("_", column).lower()) if t]


_PERSON_ALONE = {"surname", "forename", "firstname", "lastname", "fullname", "givenname",
                 "familyname", "customer", "person", "employee", "passenger", "patient",
                 "author", "client", "guest", "member", "contact", "cardholder", "recipient",
                 "sender", "buyer", "seller", "traveller", "traveler", "student", "applicant",
                 "manager", "supervisor", "assignee", "reporter", "approver", "requester",
                 "signatory", "beneficiary", "guardian", "spouse", "attendee", "participant"}
_PERSON_QUALIFIERS = {"first", "last", "given", "family", "full", "middle", "maiden", "legal",
                      "preferred", "display", "nick", "customer", "person", "employee",
                      "contact", "patient", "passenger", "user", "client", "owner", "holder",
                      "cardholder", "account", "member", "guest", "buyer", "seller",
                      "recipient", "sender", "billing", "shipping", "author", "manager",
                      "driver", "pilot", "emergency", "parent", "spouse", "student"}
_PHONE_HINTS = {"phone", "tel", "telephone", "mobile", "msisdn", "cell", "fax", "cellphone"}
_ID_HINTS = {"ssn", "social", "tin", "nino", "national", "taxid", "sin", "insee", "bsn"}
_NOT_IP_HINTS = {"version", "ver", "release", "build", "semver"}


def name_hint(column: str) -> str | None:
    """'strong' if the column name says it holds people's names, 'weak' for plain ``name``."""
    toks = name_tokens(column)
    if not toks:
        return None
    if any(t in _PERSON_ALONE for t in toks) and not any(
            t in {"id", "key", "code", "no", "num", "number", "type", "count", "segment"}
            for t in toks):
        return "strong"
    if "name" in toks or "names" in toks:
        others = [t for t in toks if t not in ("name", "names")]
        if not others:
            return "weak"
        if all(t in _PERSON_QUALIFIERS for t in others):
            return "strong"
    return None


# -- value detectors --------------------------------------------------------------------
_EMAIL = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}$")
_PHONE_CHARS = re.compile(r"^\+?[0-9()\-.\s/]{7,24}$")
_PHONE_EXT = re.compile(r"\s*(?:x|ext\.?|extension)\s*\d{1,6}$", re.IGNORECASE)
_DATE_PREFIX = re.compile(r"^\d{4}[-./]\d{1,2}[-./]\d{1,2}[-./ ]")
_DISPLAY_EMAIL = re.compile(r"^[^<>@]*<([^<>\s]+@[^<>\s]+)>$")
_CIDR = re.compile(r"^\d{1,3}(\.\d{1,3}){3}/\d{1,2}$")
_IP_PORT = re.compile(r"^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$|^\[([0-9A-Fa-f:.]+)\]:\d{1,5}$")
_IPV4_SHAPE = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_INTL_00 = re.compile(r"^00[1-9]\d{0,2}[ \-]")
_DATE_LIKE = re.compile(r"^(\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4})$")
_SSN = re.compile(r"^(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}$")
_SSN_BARE = re.compile(r"^(?!000|666|9\d\d)\d{3}(?!00)\d{2}(?!0000)\d{4}$")
_SSN_NEVER = {"078-05-1120", "219-09-9999", "123-45-6789"}  # advertised / example numbers
_NINO = re.compile(r"^(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
                   r"\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]$")
_CARD_SHAPE = re.compile(r"^\d{13,19}$|^\d{4}([ -])\d{4}\1\d{4}\1\d{1,7}$"
                         r"|^\d{4}([ -])\d{6}\2\d{4,5}$")
_IBAN_SHAPE = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$")
_IBAN_LEN = {"AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22,
             "DK": 18, "EE": 20, "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GR": 27, "HR": 21,
             "HU": 28, "IE": 22, "IS": 26, "IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21,
             "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24, "SE": 24,
             "SI": 19, "SK": 24, "SM": 27, "TR": 26}
_IP_CHARS = re.compile(r"^[0-9A-Fa-f:.]{2,45}$")
_NAME_WORD = r"[A-ZÀ-Ý][A-Za-zÀ-ÿ'’\-]*[a-zà-ÿ]"
_PERSON = re.compile(rf"^{_NAME_WORD}(?:\s+(?:[A-Z]\.|{_NAME_WORD}|van|von|de|der|den|da|di|"
                     rf"du|del|la|le|bin|al|ter)){{0,3}}$")
_PERSON_REVERSED = re.compile(rf"^{_NAME_WORD},\s*{_NAME_WORD}(?:\s+[A-Z]\.)?$")
# Words that make a capitalised phrase an organisation, place or thing, not a person.
_NOT_PERSON_WORDS = {
    "inc", "inc.", "llc", "ltd", "ltd.", "corp", "corp.", "co", "co.", "company", "group",
    "gmbh", "ag", "sa", "plc", "bank", "air", "airlines", "airways", "airport", "field",
    "international", "regional", "municipal", "county", "city", "street", "st", "road",
    "avenue", "park", "center", "centre", "university", "college", "school", "hospital",
    "hotel", "store", "shop", "market", "services", "service", "solutions", "systems",
    "technologies", "foods", "north", "south", "east", "west", "lake", "river", "mount",
    "island", "beach", "valley", "station", "base", "express", "pro", "plus", "max", "mini",
    "edition", "premium", "standard", "deluxe", "basic", "home", "garden", "kitchen",
    "team", "department", "office", "club", "association", "foundation", "trust", "fund",
}


def luhn_ok(digits: str) -> bool:
    total, parity = 0, len(digits) % 2
    for i, ch in enumerate(digits):
        d = ord(ch) - 48
        if i % 2 == parity:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _card_prefix_ok(d: str) -> bool:
    n = len(d)
    p2, p4 = int(d[:2]), int(d[:4])
    return ((d[0] == "4" and n in (13, 16, 19)) or (51 <= p2 <= 55 and n == 16)
            or (2221 <= p4 <= 2720 and n == 16) or (p2 in (34, 37) and n == 15)
            or ((d.startswith("6011") or d.startswith("65") or 644 <= int(d[:3]) <= 649)
                and 16 <= n <= 19)
            or (3528 <= p4 <= 3589 and 16 <= n <= 19)
            or ((300 <= int(d[:3]) <= 305 or p2 in (36, 38)) and n == 14)
            or (d.startswith("62") and 16 <= n <= 19))


def is_card(v: str) -> bool:
    if not _CARD_SHAPE.match(v):
        return False
    d = v.replace(" ", "").replace("-", "")
    return 13 <= len(d) <= 19 and _card_prefix_ok(d) and luhn_ok(d)


def iban_ok(v: str) -> bool:
    s = v.replace(" ", "").upper()
    if not _IBAN_SHAPE.match(s):
        return False
    want = _IBAN_LEN.get(s[:2])
    if want is not None and len(s) != want:
        return False
    if want is None and not 15 <= len(s) <= 34:
        return False
    moved = s[4:] + s[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def is_ip(v: str) -> bool:
    m = _IP_PORT.match(v)
    if m:
        v = m.group(1) or m.group(2)
    if not _IP_CHARS.match(v) or (":" not in v and v.count(".") != 3):
        return False
    try:
        ipaddress.ip_address(v)
    except ValueError:
        return False
    return True


def is_phone(v: str, hinted: bool) -> bool:
    v = _PHONE_EXT.sub("", v[4:] if v[:4].lower() == "tel:" else v)
    if not _PHONE_CHARS.match(v) or _DATE_LIKE.match(v) or _DATE_PREFIX.match(v):
        return False
    if _CIDR.match(v):
        return False
    if _IPV4_SHAPE.match(v):
        return False
    digits = sum(ch.isdigit() for ch in v)
    international = v.startswith("+") or bool(_INTL_00.match(v))
    if not (9 if international else 10) <= digits <= 15:
        return False
    seps = set(v) - set("0123456789+")
    if not international and not seps:
        return hinted  # a bare run of digits is as likely an id, unless the column says phone
    if seps == {"."} and v.count(".") == 1:
        return False  # a decimal number
    if "  " in v or "--" in v or ".." in v:
        return False
    groups = re.findall(r"\d+", v)
    if len(groups) > 1 and len(groups[-1]) == 1:
        return False  # ISBNs and check-digit codes end in a one-digit group; phones don't
    return v.count("(") == v.count(")")


def is_national_id(v: str, hinted: bool) -> bool:
    if v in _SSN_NEVER:
        return False
    if _SSN.match(v) or _NINO.match(v.upper() if hinted else v):
        return True
    return hinted and bool(_SSN_BARE.match(v))


def is_person_name(v: str, strength: str) -> bool:
    if len(v) > 60:
        return False
    if v.isupper():  # registers and legacy systems shout: GRACE HOPPER
        v = v.title()
    m = _PERSON.match(v) or _PERSON_REVERSED.match(v)
    if not m:
        return False
    words = v.replace(",", " ").split()
    if any(w.lower().strip(".") in _NOT_PERSON_WORDS for w in words):
        return False
    if strength == "weak":  # plain "name": ask for a first and last name
        return 2 <= len(words) <= 4
    return True


def detect_value(v: str, column: str = "", *, _hints: tuple[bool, bool, bool, str | None]
                 | None = None) -> str | None:
    """The kind of personal data one value is, or None. Checks run most specific first."""
    phone_hint, id_hint, not_ip, person = _hints or _column_hints(column)
    v = v.strip()
    if not v or len(v) > 256:
        return None
    if "@" in v:
        parts = [p.strip() for p in re.split(r"[;,]", v) if p.strip()]  # address lists
        for part in parts:
            m = _DISPLAY_EMAIL.match(part)  # "Ada Lovelace" <ada@example.com>
            if not _EMAIL.match(m.group(1) if m else part):
                return None
        return "email" if parts else None
    if not not_ip and (is_ip(v) or ("," in v and all(is_ip(p.strip()) for p in v.split(",")))):
        return "ip_address"
    first = v[0]
    if first.isalpha() and first.isupper() and iban_ok(v):
        return "iban"
    if first.isdigit() and is_card(v):
        return "payment_card"
    if is_national_id(v, id_hint):
        return "national_id"
    if (first.isdigit() or first in "+(" or v[:4].lower() == "tel:") and is_phone(v, phone_hint):
        return "phone"
    if person and is_person_name(v, person):
        return "person_name"
    return None


def _column_hints(column: str) -> tuple[bool, bool, bool, str | None]:
    toks = set(name_tokens(column))
    return (bool(toks & _PHONE_HINTS), bool(toks & _ID_HINTS) or "taxid" in column.lower(),
            bool(toks & _NOT_IP_HINTS), name_hint(column))


@dataclass(frozen=True)
class Detection:
    """A proposal: ``column`` probably holds ``kind`` (share ``fraction`` of the sample)."""

    column: str
    kind: str
    fraction: float
    matched: int
    sampled: int

    @property
    def classification(self) -> str:
        return f"pii.{self.kind}"

    def to_dict(self) -> dict[str, object]:
        return {"column": self.column, "kind": self.kind, "classification": self.classification,
                "fraction": round(self.fraction, 4), "matched": self.matched,
                "sampled": self.sampled}


def classify_column(column: str, values: Iterable[object]) -> Detection | None:
    """The most frequent kind among the values (a ``Counter`` of them counts each as many
    times as it says), if frequent enough to propose."""
    hints = _column_hints(column)
    counts: dict[str, int] = {}
    n = 0
    # each distinct value is classified once: categorical columns cost next to nothing
    distinct = Counter(values)  # counted in C; the None key is dropped below
    distinct.pop(None, None)
    for raw, times in distinct.items():
        text = raw if isinstance(raw, str) else str(raw)
        if not text.strip():
            continue
        n += times
        kind = detect_value(text, _hints=hints)
        if kind:
            counts[kind] = counts.get(kind, 0) + times
    if not counts:
        return None
    # ties go to the earlier kind in KINDS, so the order values arrive in never matters
    kind, hits = max(counts.items(), key=lambda kv: (kv[1], -KINDS.index(kv[0])))
    fraction = hits / n
    if fraction < THRESHOLD[kind]:
        return None
    return Detection(column, kind, fraction, hits, n)


def classify_sample(sample: Mapping[str, Iterable[object]]) -> list[Detection]:
    out = []
    for col, values in sample.items():
        d = classify_column(col, values)
        if d is not None:
            out.append(d)
    return out


# -- scanning versions inside the engine -------------------------------------------------
SAMPLE_ROWS = 1000
_STRING_TYPES = ("VARCHAR", "TEXT", "STRING", "CHAR", "BPCHAR")


def string_columns(schema: Iterable[object]) -> list[str]:
    """Names of the text columns of a version's schema (``Column`` records)."""
    return [c.name for c in schema  # type: ignore[attr-defined]
            if str(c.type).upper().split("(")[0] in _STRING_TYPES]  # type: ignore[attr-defined]


def sample_sql(files: Sequence[str], columns: Sequence[str], rows: int = SAMPLE_ROWS) -> str:
    """``SELECT <cols> FROM read_parquet(...) USING SAMPLE reservoir(n ROWS) REPEATABLE``.

    A reservoir sample with a fixed seed: the same version always yields the same sample,
    so a proposal does not flicker between runs. (A ``system`` pre-sample was measured
    not to help: DuckDB decodes the Parquet pages before it samples them.)
    """
    from sqlglot import exp

    from steward.sql.parse import parquet_scan

    select = exp.select(*[exp.column(c, quoted=True) for c in columns]).from_(
        parquet_scan(list(files)))
    select.set("sample", exp.TableSample(method=exp.var("RESERVOIR"),
                                         size=exp.Literal.number(rows),
                                         seed=exp.Literal.number(42)))
    return select.sql(dialect=DIALECT)


def sample_columns(engine: object, files: Sequence[str], columns: Sequence[str],
                   rows: int = SAMPLE_ROWS, row_count: int | None = None,
                   table: Any = None) -> dict[str, Counter[object]]:
    """Up to ``rows`` sampled values per column, counted: value -> times.

    A version of at most ``rows`` rows (``row_count`` when the caller knows it, else the
    Parquet footers) is read whole with pyarrow: a reservoir sample of it would return
    every row anyway, and a footer read beats a DuckDB query for a small file. Larger
    versions are sampled inside the engine in one scan. ``table``: the version's data as
    an Arrow table when a caller already read it (then no file is read here).
    """
    if not files or not columns:
        return {}
    if table is not None and table.num_rows <= rows:
        got = _string_values(table, columns)
        if got is not None:
            return got
    if row_count is None or row_count <= rows:
        small = read_small(files, columns, rows)
        if small is not None:
            return small
    got = engine.rows(sample_sql(files, columns, rows))  # type: ignore[attr-defined]
    return {c: Counter(r[i] for r in got) for i, c in enumerate(columns)}


def _string_values(table: Any, columns: Sequence[str],
                   into: dict[str, Counter[object]] | None = None
                   ) -> dict[str, Counter[object]] | None:
    """Every value of ``columns`` of an Arrow table, counted by Arrow (a category column
    becomes a handful of Python strings, not one per row), added to ``into``; None unless
    the columns are all text."""
    import pyarrow as pa
    import pyarrow.compute as pc

    out: dict[str, Counter[object]] = into if into is not None else {}
    try:
        for c in columns:
            col = table.column(c)
            if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
                return None  # e.g. binary: the engine decides how such values read
            counts = pc.value_counts(col)
            out.setdefault(c, Counter()).update(dict(zip(
                counts.field("values").to_pylist(), counts.field("counts").to_pylist(),
                strict=True)))
    except (KeyError, pa.ArrowException):
        return None
    return out


def read_small(files: Sequence[str], columns: Sequence[str],
               rows: int = SAMPLE_ROWS) -> dict[str, Counter[object]] | None:
    """Every value of ``columns`` (counted) if the files hold at most ``rows`` rows in
    all, else None (also None when a file cannot be read this way: the engine path
    decides then)."""
    try:
        import pyarrow.parquet as pq

        opened = [pq.ParquetFile(f) for f in files]
        if sum(pf.metadata.num_rows for pf in opened) > rows:
            return None
        out: dict[str, Counter[object]] = {c: Counter() for c in columns}
        for pf in opened:
            if _string_values(pf.read(columns=list(columns), use_threads=False),
                              columns, out) is None:
                return None
        return out
    except Exception:  # an unexpected layout or name: let the engine sample it
        return None


def scan_files(engine: object, files: Sequence[str], schema: Iterable[object],
               rows: int = SAMPLE_ROWS, row_count: int | None = None) -> list[Detection]:
    """Detections over a version's Parquet files (its text columns only; no text column,
    no work)."""
    columns = string_columns(schema)
    if not columns:
        return []
    return classify_sample(sample_columns(engine, files, columns, rows, row_count))
