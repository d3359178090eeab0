"""PII redaction: e-mails, phones (international, ru, pl, us, uk), Luhn-checked cards, mod-97 IBANs,
customer names. Positives must be removed, negatives (order numbers, dates, amounts, tracking
numbers that fail Luhn) must survive unchanged."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from cxaudit.demo import PLANTED, generate_demo
from cxaudit.text import customer_names, iban_valid, luhn_valid, pii_labels, redact_pii, redact_series

# (text, what must disappear, label that must appear)
POSITIVES: list[tuple[str, str, str]] = [
    # e-mail
    ("Please reply to anna.nowak@example.com today", "anna.nowak@example.com", "[EMAIL]"),
    ("Ответьте на ivan.petrov12@mail.example.org.", "ivan.petrov12@mail.example.org", "[EMAIL]"),
    ("mail: o'brien+shop@example.co.uk", "o'brien+shop@example.co.uk", "[EMAIL]"),
    ("пишите на иван@почта.рф", "иван@почта.рф", "[EMAIL]"),
    ("Kontakt:Marta_K-99@firma.pl,dzięki", "Marta_K-99@firma.pl", "[EMAIL]"),
    # phones: Russia
    ("Перезвоните +7 (912) 345-67-89", "+7 (912) 345-67-89", "[PHONE]"),
    ("Мой номер +7 912 345-67-89.", "+7 912 345-67-89", "[PHONE]"),
    ("звоните 8 912 345 67 89 вечером", "8 912 345 67 89", "[PHONE]"),
    ("офис 8 (495) 123-45-67", "8 (495) 123-45-67", "[PHONE]"),
    ("тел. 89123456789", "89123456789", "[PHONE]"),
    ("тел. +79123456789", "+79123456789", "[PHONE]"),
    # phones: Poland
    ("Proszę oddzwonić pod numer +48 601 234 567.", "+48 601 234 567", "[PHONE]"),
    ("mój numer 601-234-567", "601-234-567", "[PHONE]"),
    ("komórka 601 234 567, po 17", "601 234 567", "[PHONE]"),
    ("biuro +48 22 123 45 67", "+48 22 123 45 67", "[PHONE]"),
    ("stacjonarny 22 123 45 67", "22 123 45 67", "[PHONE]"),
    ("z zagranicy 0048 601 234 567", "0048 601 234 567", "[PHONE]"),
    # phones: US / UK
    ("Call me back on +1 415 555 0134.", "+1 415 555 0134", "[PHONE]"),
    ("call (415) 555-0134 please", "(415) 555-0134", "[PHONE]"),
    ("cell 415-555-0134", "415-555-0134", "[PHONE]"),
    ("cell 415.555.0134", "415.555.0134", "[PHONE]"),
    ("London office +44 20 7946 0958", "+44 20 7946 0958", "[PHONE]"),
    ("ring 020 7946 0958 or", "020 7946 0958", "[PHONE]"),
    ("mobile 07700 900123", "07700 900123", "[PHONE]"),
    # cards (Luhn-valid test numbers)
    ("I paid with card 4111 1111 1111 1111.", "4111 1111 1111 1111", "[CARD]"),
    ("Оплата была с карты 5555 5555 5555 4444.", "5555 5555 5555 4444", "[CARD]"),
    ("card 4111-1111-1111-1111 expired", "4111-1111-1111-1111", "[CARD]"),
    ("amex 378282246310005", "378282246310005", "[CARD]"),
    ("karta 4012888888881881", "4012888888881881", "[CARD]"),
    ("order 552753 4111 1111 1111 1111 was charged", "4111 1111 1111 1111", "[CARD]"),
    # IBANs (ISO 13616 examples)
    ("IBAN GB82 WEST 1234 5698 7654 32 please refund", "GB82 WEST 1234 5698 7654 32", "[IBAN]"),
    ("Konto PL61 1090 1014 0000 0712 1981 2874 proszę", "PL61 1090 1014 0000 0712 1981 2874", "[IBAN]"),
    ("DE89370400440532013000", "DE89370400440532013000", "[IBAN]"),
    ("NL91 ABNA 0417 1643 00.", "NL91 ABNA 0417 1643 00", "[IBAN]"),
]

NEGATIVES: list[str] = [
    "Order 552753 has not arrived yet.",
    "Заказ 123456 до сих пор не пришёл, уже 3 дня.",
    "Delivered on 2025-01-15 at 10:30.",
    "Termin 31.12.2025, godzina 14:45.",
    "Kosztowało 1 234,50 zł, a miało 999 zł.",
    "A fee of $4.99 and then $12.00 more.",
    "Трек-номер 1234 5678 9012 3456.",           # 16 digits, not Luhn-valid (a planted decoy)
    "Tracking number 4111 1111 1111 1112.",       # 16 digits, not Luhn-valid (a planted decoy)
    "Kod pocztowy 00-950 Warszawa.",
    "Version 3.11.2 of the app crashes.",
    "I waited 10-15 minutes on hold.",
    "Customer number 123456789.",
    "Router 192.168.0.1 is fine.",
    "IBAN GB82 WEST 1234 5698 7654 33 is a typo",  # fails mod 97
    "20% discount on 2 items, 2024-2025 season.",
    "SKU 12-34-56, size 42.",
    "Contact @northwind_help on social media.",
]


@pytest.mark.parametrize(("text", "secret", "label"), POSITIVES)
def test_positive_is_redacted(text: str, secret: str, label: str) -> None:
    out = redact_pii(text)
    assert secret not in out
    assert label in out
    # nothing else of the text was touched
    assert out == text.replace(secret, label)


@pytest.mark.parametrize("text", NEGATIVES)
def test_negative_is_left_alone(text: str) -> None:
    assert redact_pii(text) == text


def test_names_from_customer_table_with_inflections() -> None:
    customers = pd.DataFrame({"customer_id": ["C1", "C2", "C3"],
                              "name": ["Anna Nowak", "Ольга Петрова", "John Smith"]})
    names = customer_names(customers)
    assert names == ["Anna Nowak", "Ольга Петрова", "John Smith"]
    assert redact_pii("Pani Anna Nowak dzwoniła", names) == "Pani [NAME] [NAME] dzwoniła"
    assert redact_pii("Rozmawiałam z panem Nowakiem", names) == "Rozmawiałam z panem [NAME]"
    assert redact_pii("Спасибо Ольге Петровой!", names) == "Спасибо [NAME] [NAME]!"
    assert redact_pii("Smith's order", names) == "[NAME]'s order"
    # negatives: lower-case words, other names, no list
    assert redact_pii("the annual fee", names) == "the annual fee"
    assert redact_pii("Piotr Kowalski wrote", names) == "Piotr Kowalski wrote"
    assert redact_pii("Anna Nowak") == "Anna Nowak"
    assert customer_names(pd.DataFrame({"customer_id": ["C1"]})) == []
    assert customer_names(None) == []


def test_checksums_against_published_examples() -> None:
    # ISO 13616 example IBANs; the Luhn test numbers of the card networks
    assert iban_valid("GB82 WEST 1234 5698 7654 32") and iban_valid("FR14 2004 1010 0505 0001 3M02 606")
    assert not iban_valid("GB82 WEST 1234 5698 7654 33") and not iban_valid("XX00")
    # Luhn by hand for 79927398713 (the classic example): 3+2(1→2)+7+… — sum 70, valid
    assert luhn_valid("79927398713") and not luhn_valid("79927398710")
    assert luhn_valid("6011111111111117") and not luhn_valid("1234567890123456")


def test_labels_localised_and_empty_input() -> None:
    ru = pii_labels("ru")
    assert redact_pii("a@b.example.com", labels=ru) == ru["email"]
    assert redact_pii(None) == "" and redact_pii(float("nan")) == ""
    s = redact_series(pd.Series(["x anna@example.com", None, "x anna@example.com"]))
    assert s.tolist() == ["x [EMAIL]", "", "x [EMAIL]"]


@pytest.mark.parametrize("lang", ["en", "ru", "pl"])
def test_planted_pii_in_demo_tickets(tmp_path: Path, lang: str) -> None:
    """Every planted e-mail, phone and card is removed; every planted decoy survives."""
    folder = generate_demo(tmp_path / "demo", size="small", lang=lang)
    texts = pd.read_csv(folder / "tickets.csv", dtype=str)["text"]
    out = redact_series(texts)
    counts = PLANTED["pii"]["counts"]["small"]
    assert out.str.count(re.escape("[EMAIL]")).sum() == counts["email"]
    assert out.str.count(re.escape("[PHONE]")).sum() == counts["phone"]
    assert out.str.count(re.escape("[CARD]")).sum() == counts["card"]
    assert not out.str.contains("@").any()
    for card in PLANTED["pii"]["cards"]:
        assert not out.str.contains(card, regex=False).any()
    decoys = sum(out.str.contains(d, regex=False).sum() for d in PLANTED["pii"]["decoys_not_luhn"])
    assert decoys == counts["decoy"]
    # the order numbers (6 digits) in every ticket are kept
    assert out.str.contains(r"\d{6}").mean() > 0.8
