"""The PII classifier: validators, and precision/recall on the shipped labelled set."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from steward.audit.pii import (
    classify_column,
    detect_value,
    iban_ok,
    is_card,
    luhn_ok,
    name_hint,
)

DATA = Path(__file__).parent / "data" / "pii_labelled.csv"


def evaluate(rows: list[dict[str, str]]) -> dict[str, float]:
    tp = fp = fn = 0
    for r in rows:
        d = classify_column(r["column_name"], json.loads(r["sample_values"]))
        pred, label = (d.kind if d else "none"), r["label"]
        tp += pred != "none" and pred == label
        fp += pred != "none" and pred != label
        fn += label != "none" and pred != label
    return {"precision": tp / (tp + fp), "recall": tp / (tp + fn), "tp": tp, "fp": fp,
            "fn": fn, "columns": len(rows)}


def _rows() -> list[dict[str, str]]:
    with DATA.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_precision_and_recall_floor() -> None:
    rows = _rows()
    assert len(rows) > 300
    overall = evaluate(rows)
    parts = {p: evaluate([r for r in rows if r["part"] == p])
             for p in ("tuned", "holdout", "holdout2")}
    print(json.dumps({"overall": overall, **parts}, indent=1))
    # floors just under what docs/compliance.md states (0.979 / 0.979); a regression fails
    assert overall["precision"] >= 0.97
    assert overall["recall"] >= 0.97
    assert parts["holdout2"]["precision"] >= 0.8
    assert parts["holdout2"]["recall"] >= 0.9


def test_labelled_set_is_the_generators_output(tmp_path: Path) -> None:
    script = Path(__file__).parent / "make_pii_labelled.py"
    fresh = tmp_path / "labelled.csv"
    subprocess.run([sys.executable, str(script), str(fresh)], check=True, capture_output=True)
    assert fresh.read_bytes() == DATA.read_bytes()  # deterministic, and committed as made


@pytest.mark.parametrize("number,ok", [
    ("4111111111111111", True), ("4111111111111112", False), ("378282246310005", True),
    ("5555555555554444", True), ("6011111111111117", True), ("1234567812345670", True)])
def test_luhn(number: str, ok: bool) -> None:
    assert luhn_ok(number) is ok


def test_cards_need_luhn_and_an_issuer() -> None:
    assert is_card("4111 1111 1111 1111")
    assert is_card("3782-822463-10005")
    assert not is_card("4111111111111112")  # Luhn fails
    assert not is_card("1234567812345670")  # Luhn passes, no issuer starts with 1


def test_iban_mod97_and_length() -> None:
    assert iban_ok("DE89 3704 0044 0532 0130 00")
    assert iban_ok("GB82WEST12345698765432")
    assert not iban_ok("DE89 3704 0044 0532 0130 01")  # check digits
    assert not iban_ok("DE89370400440532013")  # length for DE is 22


def test_values() -> None:
    assert detect_value("ada.lovelace@example.com") == "email"
    assert detect_value("(555) 123-4567") == "phone"
    assert detect_value("+44 20 7946 0958") == "phone"
    assert detect_value("1234567.89") is None  # an amount
    assert detect_value("2026-11-27") is None
    assert detect_value("078-05-1120") is None  # the advertised Woolworth SSN
    assert detect_value("536-22-1234") == "national_id"
    assert detect_value("666-22-1234") is None
    assert detect_value("192.168.0.1") == "ip_address"
    assert detect_value("2001:db8::1") == "ip_address"
    assert detect_value("1.2.3.4", "version") is None
    assert detect_value("256.1.1.1") is None
    assert detect_value("Grace Hopper", "customer_name") == "person_name"
    assert detect_value("Grace Hopper", "city") is None  # names only where columns say so
    assert detect_value("Lansdowne Airport", "name") is None


def test_column_name_hints() -> None:
    assert name_hint("first_name") == "strong"
    assert name_hint("customerName") == "strong"
    assert name_hint("name") == "weak"
    assert name_hint("product_name") is None
    assert name_hint("customer_id") is None


def test_fraction_threshold() -> None:
    mostly = ["a@example.com"] * 6 + ["n/a"] * 4
    d = classify_column("contact", mostly)
    assert d is not None and d.kind == "email" and d.fraction == pytest.approx(0.6)
    assert classify_column("notes", ["a@example.com"] + ["hello"] * 9) is None
    assert classify_column("x", [None, None]) is None
