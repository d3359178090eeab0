"""The demo client: realistic synthetic data with known, planted effects.

:func:`generate_demo` writes one client folder -- six raw tables and an ``audit.yaml`` -- for the
fictional retailer *Northwind Retail* ("Северный ветер" in Russian, "Północny Wiatr" in Polish).
The raw column names of ``responses.csv`` deliberately differ from the canonical ones; the
``audit.yaml`` maps them. Every table is generated with vectorised numpy / pandas from
``numpy.random.default_rng(seed)``, so the same ``(size, lang, seed)`` gives byte-identical files.

Files
-----
responses.csv
    ``Response ID`` (``R000001``), ``Customer ID`` (``C00001``; ``C000001`` at the large size),
    ``Submitted`` (``YYYY-MM-DD HH:MM``, 2025-01-01 .. 2026-06-30), ``Q1 Recommend (0-10)``,
    ``Q2 Satisfaction (1-5)``, ``Q3 Ease (1-7)``, ``Comment`` (about 40 % non-empty, in the client language), ``Duration (s)``,
    ``segment``, ``region``, ``channel`` (the channel of the response's main contact), then one
    ``tp_<id>`` column per touchpoint with 1-5 ratings (empty when the touchpoint was not used;
    40-60 % usage each, higher when it is the response's channel). Rows are in time order, except
    the re-appended duplicates at the end.
touchpoints.csv
    ``touchpoint, stage, channel, owner_department, label``: 18 touchpoints over the nine stages.
customers.csv
    ``customer_id, segment, region, start_date, tenure_months, revenue, churned, churn_date,
    churn_reason``. Revenue is annual and log-normal by segment; ``churn_reason`` is one of six
    localised reasons (price, delivery problems, poor support, moved to a competitor, no longer
    needed, billing errors).
tickets.csv
    ``ticket_id, customer_id, channel, category, created_at, first_response_at, resolved_at, csat,
    text``. Channels are phone, chat, email, social and app; times are ``YYYY-MM-DD HH:MM:SS``;
    ``resolved_at`` (and rarely ``first_response_at``) is empty for open tickets; ``csat`` is about
    50 % missing. A few texts carry personal data (see ``PLANTED["pii"]``).
employees.csv
    ``employee_id, department, role, tenure_months, enps`` (0-10) and eight motivation items
    ``mot_pay, mot_recognition, mot_growth, mot_autonomy, mot_workload, mot_tools, mot_team,
    mot_customer_focus`` (1-5).
kpis.csv
    ``department, kpi, weight, is_customer_metric``; weights sum to 1 per department.
audit.yaml
    Validates with :func:`cxaudit.config.load_config`.

Stages, channel codes and touchpoint ids are the same in every language (the report names them from
its catalogs); department names (Marketing, Sales, E-commerce, Logistics, Customer Service, Billing in
English; ``PLANTED["departments"]`` per language), segment, region, labels, categories, roles, KPI
names, churn reasons, comments and ticket texts are in the client language.

Sizes
-----
===========  =========  =========  =======  =========
size         responses  customers  tickets  employees
===========  =========  =========  =======  =========
``small``          600        500      300         60
``default``      5,000      4,000    3,000        250
``large``      200,000    150,000  100,000      2,000
``xl``       1,000,000    500,000  2,000,000    5,000
===========  =========  =========  =======  =========

At ``xl`` (issue 19, the scale benchmark) responses, customers, tickets and the events log are written
as Parquet files whose columns hold exactly the text the CSV would hold (``responses.parquet``, …;
``audit.yaml`` names them): the same cells reach the checks, read without parsing 4 GB of CSV. Every
other size writes CSV only, byte-identical to before.

The response count is the number of rows in ``responses.csv`` *including* the duplicated rows.

Planted effects
---------------
Every effect is also described, machine-readably, in :data:`PLANTED`.

1. **Key drivers.** NPS comes from a latent satisfaction that is a weighted sum of the (centred)
   touchpoint ratings plus noise. ``tp_delivery`` (post-purchase, site, Logistics) and
   ``tp_support_call`` (retention, phone, Customer Service) carry weights 1.00 and 0.95; every other
   touchpoint carries 0.22 or less (a ratio of at least 4.3), so Shapley / relative-weights analysis
   ranks the two first. A mild respondent halo correlates all ratings a little. CSAT and CES come
   from the same latent.
2. **Segment gap.** "Small business" (localised) is about 15 NPS points below Consumer and Corporate.
3. **Churn by NPS group.** A customer's group is that of their most recent *valid* response
   (parseable date, NPS in 0-10, not a speeder). Exactly ``round(rate x n)`` customers of each group
   churn: promoters 8 %, passives 14 %, detractors 24 % (3x promoters), customers without a valid
   response 15 %. Within a group, shorter tenure churns a little more often; churned customers open
   twice as many tickets; detractors mostly name delivery problems and poor support as reasons.
   A customer leaves within 90 days of their last answer; no month-over-month change in churn is
   planted after the ramp-up of the first quarter (churn must follow an answer).
4. **Slow social channel.** Median first response: phone 4 min, chat 6 min, app 45 min, email 4 h,
   social 6 h.
5. **Unmotivated Logistics.** Logistics' eNPS is clearly negative (others positive) and its
   motivation items are about one point lower (workload and tools most). Logistics owns
   ``tp_delivery``, the touchpoint with the lowest mean rating. ("Логистика" in the Russian demo,
   "Logistyka" in the Polish one: ``PLANTED["low_motivation_department"]["name"]``.)
6. **Complaint themes.** Comments of detractors mostly complain about late delivery, long waiting
   on the phone and unexpected fees (at least 70 % of the comments of each theme come from
   detractors); promoters praise friendly staff and the easy app. Several templates per theme, with
   inflected word forms and gendered variants in Russian and Polish. Half of the detractors who rated
   ``tp_delivery`` 1–2 (fees complaints aside) write about late delivery instead of their drawn theme
   (``tp_support_call``: waiting on the phone): a touchpoint-specific link that holds within NPS
   groups.
7. **KPIs.** None of Logistics' KPIs is a customer metric; Customer Service has 45 % of its KPI
   weight on customer metrics.
8. **Seasonal dip.** NPS in 2025-11 and 2025-12 is about 8 points lower: peak-season delivery
   problems lower the tp_delivery ratings by 0.4 points, which feeds the latent NPS through its large
   weight. Those months also get about 35 % more responses.
9. **Personas.** Four planted personas (``PLANTED["personas"]``): digital self-servers, price-first
   shoppers, business buyers who want advice, store lovers. Each response's persona is drawn from a
   generator of its own (``default_rng([16, seed])``) with odds prior × channel odds × segment odds ×
   NPS-group odds, read from the response's existing ``channel``, ``segment`` and 0-10 answer (so the
   persona is correlated with the data: the phone-first advice seekers are mostly phone respondents
   with twice the detractor odds, hence an NPS about 15-20 points below the rest and phone as their
   lead channel at retention), and drives four extra 1-5 attitude columns ``att_price,
   att_self_service, att_advice, att_store`` (3 % item non-response); no existing column changes.
   ``persona_labels(responses, seed)`` gives the planted labels; the latent class model recovers them
   at ARI ≈ 0.90 on the default size.

Data-quality problems in ``responses.csv`` (disjoint rows; exact counts per size are in
``PLANTED["quality"]["counts"]``): speeders (1.5 %, duration below a third of the median),
straight-liners (0.7 %, all of at least five used touchpoints rated the same), duplicate
``Response ID`` rows (0.2 %, exact copies of clean rows re-appended at the end), NPS out of range
(11 or -1), unparseable dates (``31/02/2025``, ``n/a``), missing NPS (2 %), missing CSAT (5 %) and
missing CES (4 %). No other row is a speeder or a straight-liner.

Examples
--------
>>> import tempfile
>>> from cxaudit.config import load_config
>>> out = generate_demo(tempfile.mkdtemp(), size="small", lang="pl")
>>> load_config(out / "audit.yaml").client.name
'Północny Wiatr'
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from .schema import MOTIVATION_ITEMS

__all__ = ["SIZES", "PLANTED", "DEMO_LANGUAGES", "generate_demo", "generate_waves", "persona_labels"]

DEMO_LANGUAGES: Final[tuple[str, ...]] = ("en", "ru", "pl")
_LANG_INDEX: Final[dict[str, int]] = {"en": 0, "ru": 1, "pl": 2}

#: Row counts per table and size.
SIZES: Final[dict[str, dict[str, int]]] = {
    "small": {"responses": 600, "customers": 500, "tickets": 300, "employees": 60},
    "default": {"responses": 5_000, "customers": 4_000, "tickets": 3_000, "employees": 250},
    "large": {"responses": 200_000, "customers": 150_000, "tickets": 100_000, "employees": 2_000},
    "xl": {"responses": 1_000_000, "customers": 500_000, "tickets": 2_000_000, "employees": 5_000},
}
#: Sizes whose large tables (responses, customers, tickets, events) are written as Parquet, not CSV.
PARQUET_SIZES: Final[frozenset[str]] = frozenset({"xl"})
_PARQUET_TABLES: Final[tuple[str, ...]] = ("responses", "customers", "tickets", "events")

_START: Final = np.datetime64("2025-01-01", "D")
_END: Final = np.datetime64("2026-06-30", "D")
_N_DAYS: Final[int] = int((_END - _START).astype(int)) + 1
_PEAK_MONTHS: Final[tuple[str, ...]] = ("2025-11", "2025-12")

_CLIENT_NAMES: Final[dict[str, str]] = {
    "en": "Northwind Retail",
    "ru": "Северный ветер",
    "pl": "Północny Wiatr",
}

# --- journey ---------------------------------------------------------------------------------------

# id, stage, channel, owner, nominal mean rating, usage probability, weight in latent NPS, labels
_TOUCHPOINTS: Final[tuple[tuple[str, str, str, str, float, float, float, tuple[str, str, str]], ...]] = (
    ("tp_online_ads", "awareness", "social", "Marketing", 3.7, 0.55, 0.10,
     ("Online advertising", "Реклама в интернете", "Reklama internetowa")),
    ("tp_social_media", "awareness", "social", "Marketing", 3.8, 0.45, 0.12,
     ("Social media pages", "Страницы в соцсетях", "Profile w mediach społecznościowych")),
    ("tp_website", "consideration", "site", "E-commerce", 3.9, 0.60, 0.20,
     ("Website", "Сайт", "Strona internetowa")),
    ("tp_reviews", "consideration", "site", "Marketing", 3.8, 0.42, 0.10,
     ("Customer reviews", "Отзывы покупателей", "Opinie klientów")),
    ("tp_newsletter", "interest", "email", "Marketing", 3.5, 0.40, 0.08,
     ("Newsletter", "Email-рассылка", "Newsletter")),
    ("tp_store_visit", "interest", "store", "Sales", 4.0, 0.45, 0.18,
     ("Store visit", "Посещение магазина", "Wizyta w sklepie")),
    ("tp_product_page", "intent", "site", "E-commerce", 3.9, 0.58, 0.15,
     ("Product page", "Карточка товара", "Karta produktu")),
    ("tp_sales_advice", "intent", "phone", "Sales", 3.8, 0.40, 0.20,
     ("Sales consultation", "Консультация продавца", "Porada sprzedawcy")),
    ("tp_checkout", "purchase", "site", "E-commerce", 3.8, 0.60, 0.22,
     ("Online checkout", "Оформление заказа на сайте", "Składanie zamówienia online")),
    ("tp_app_order", "purchase", "app", "E-commerce", 4.1, 0.50, 0.18,
     ("Ordering in the app", "Заказ в приложении", "Zamówienie w aplikacji")),
    ("tp_delivery", "post-purchase", "site", "Logistics", 2.9, 0.60, 1.00,
     ("Home delivery", "Доставка на дом", "Dostawa do domu")),
    ("tp_order_tracking", "post-purchase", "app", "Logistics", 3.5, 0.50, 0.15,
     ("Order tracking", "Отслеживание заказа", "Śledzenie przesyłki")),
    ("tp_support_call", "retention", "phone", "Customer Service", 3.3, 0.45, 0.95,
     ("Call to the support line", "Звонок на горячую линию", "Telefon na infolinię")),
    ("tp_support_chat", "retention", "chat", "Customer Service", 3.8, 0.45, 0.20,
     ("Support chat", "Чат поддержки", "Czat z obsługą klienta")),
    ("tp_invoice", "retention", "email", "Billing", 3.6, 0.50, 0.15,
     ("Invoice and payment", "Счёт и оплата", "Faktura i płatność")),
    ("tp_referral", "advocacy", "email", "Marketing", 3.7, 0.40, 0.10,
     ("Refer-a-friend programme", "Программа «Приведи друга»", "Program poleceń")),
    ("tp_review_request", "advocacy", "email", "Marketing", 3.6, 0.40, 0.08,
     ("Request to leave a review", "Просьба оставить отзыв", "Prośba o wystawienie opinii")),
    ("tp_loyalty_program", "loyalty", "app", "Marketing", 3.9, 0.50, 0.22,
     ("Loyalty programme", "Программа лояльности", "Program lojalnościowy")),
)  # fmt: skip
_TP_IDS: Final[list[str]] = [t[0] for t in _TOUCHPOINTS]
_TP_DELIVERY: Final[int] = _TP_IDS.index("tp_delivery")
_TP_SUPPORT_CALL: Final[int] = _TP_IDS.index("tp_support_call")

_HALO: Final[float] = 0.4  # respondent halo on every rating
_RATING_NOISE: Final[float] = 0.85
_PEAK_DELIVERY_DROP: Final[float] = 0.4  # tp_delivery rating drop in peak months (the seasonal dip)

# --- latent NPS ------------------------------------------------------------------------------------

_NPS_BASE: Final[float] = 8.2
_NPS_NOISE: Final[float] = 1.55
_SEGMENT_SHIFT: Final[tuple[float, float, float]] = (0.0, -0.45, 0.0)  # consumer, small business, corporate

_SEGMENT_KEYS: Final[tuple[str, ...]] = ("consumer", "small_business", "corporate")
_SEGMENT_SHARES: Final[tuple[float, ...]] = (0.60, 0.25, 0.15)
_SEGMENTS: Final[dict[str, tuple[str, str, str]]] = {
    "en": ("Consumer", "Small business", "Corporate"),
    "ru": ("Частные клиенты", "Малый бизнес", "Корпоративные"),
    "pl": ("Klienci indywidualni", "Małe firmy", "Korporacje"),
}
_REGION_SHARES: Final[tuple[float, ...]] = (0.30, 0.20, 0.20, 0.15, 0.15)
_REGIONS: Final[dict[str, tuple[str, ...]]] = {
    "en": ("London", "Manchester", "Birmingham", "Leeds", "Bristol"),
    "ru": ("Москва", "Санкт-Петербург", "Урал", "Сибирь", "Юг"),
    "pl": ("Warszawa", "Kraków", "Wrocław", "Gdańsk", "Poznań"),
}
_RESPONSE_CHANNELS: Final[tuple[str, ...]] = ("site", "app", "phone", "chat", "email", "store")
_RESPONSE_CHANNEL_SHARES: Final[tuple[float, ...]] = (0.30, 0.20, 0.18, 0.12, 0.10, 0.10)
# response hour of day, 0..23
_RESPONSE_HOURS: Final = np.array(
    [1, 0.5, 0.3, 0.2, 0.2, 0.5, 1.5, 3, 4, 5, 5.5, 5.5, 6, 6, 5.5, 5.5, 6, 6.5, 7, 7.5, 7, 6, 4, 2]
)
_TICKET_HOURS: Final = np.array(
    [0.3, 0.2, 0.1, 0.1, 0.1, 0.3, 1, 3, 6, 8, 8.5, 8.5, 8, 8, 8, 7.5, 7, 6, 5, 4, 3, 2, 1.2, 0.6]
)

# --- churn -----------------------------------------------------------------------------------------

_NPS_GROUPS: Final[tuple[str, ...]] = ("promoter", "passive", "detractor", "no_response")
_CHURN_RATES: Final[tuple[float, ...]] = (0.08, 0.14, 0.24, 0.15)
_CHURN_REASON_KEYS: Final[tuple[str, ...]] = (
    "price",
    "delivery_problems",
    "poor_support",
    "competitor",
    "no_longer_needed",
    "billing_errors",
)
_CHURN_REASONS: Final[dict[str, tuple[str, ...]]] = {
    "en": ("Price too high", "Delivery problems", "Poor customer support", "Moved to a competitor",
           "No longer needed", "Billing errors"),
    "ru": ("Слишком высокие цены", "Проблемы с доставкой", "Плохая поддержка клиентов", "Ушёл к конкуренту",
           "Больше не нужно", "Ошибки в счетах"),
    "pl": ("Zbyt wysokie ceny", "Problemy z dostawą", "Słaba obsługa klienta", "Przejście do konkurencji",
           "Już niepotrzebne", "Błędy w rozliczeniach"),
}  # fmt: skip
# reason probabilities: detractors vs everybody else
_REASON_P_DETRACTOR: Final = np.array([0.14, 0.32, 0.24, 0.12, 0.06, 0.12])
_REASON_P_OTHER: Final = np.array([0.30, 0.08, 0.06, 0.25, 0.25, 0.06])
_REVENUE: Final[tuple[tuple[float, float], ...]] = ((350.0, 0.8), (6_000.0, 0.9), (80_000.0, 1.0))

# --- tickets ---------------------------------------------------------------------------------------

_TICKET_CHANNELS: Final[tuple[str, ...]] = ("phone", "chat", "email", "social", "app")
_TICKET_CHANNEL_SHARES: Final[tuple[float, ...]] = (0.30, 0.25, 0.20, 0.10, 0.15)
# median first-response time in minutes, and log-sd
_FIRST_RESPONSE: Final[dict[str, tuple[float, float]]] = {
    "phone": (4.0, 0.8),
    "chat": (6.0, 0.8),
    "email": (240.0, 0.7),
    "social": (360.0, 0.6),
    "app": (45.0, 0.8),
}
_NO_FIRST_RESPONSE: Final[float] = 0.015
_UNRESOLVED: Final[float] = 0.06
_TICKET_CATEGORY_KEYS: Final[tuple[str, ...]] = (
    "delivery",
    "billing",
    "product",
    "returns",
    "account",
    "app",
)
_TICKET_CATEGORY_SHARES: Final[tuple[float, ...]] = (0.30, 0.18, 0.15, 0.15, 0.10, 0.12)
_TICKET_CATEGORIES: Final[dict[str, tuple[str, ...]]] = {
    "en": ("Delivery", "Billing", "Product", "Returns", "Account", "Website and app"),
    "ru": ("Доставка", "Оплата и счета", "Товар", "Возврат", "Личный кабинет", "Сайт и приложение"),
    "pl": ("Dostawa", "Płatności i faktury", "Produkt", "Zwroty", "Konto", "Strona i aplikacja"),
}
# Every template contains "{order}" exactly once.
_TICKET_TEXTS: Final[dict[str, dict[str, tuple[str, ...]]]] = {
    "en": {
        "delivery": ("Order {order} has not arrived yet and the tracking has not changed for three days.",
                     "The courier did not show up for order {order}. When will it be delivered?",
                     "Order {order} arrived damaged, the box was crushed."),
        "billing": ("I was charged twice for order {order}, please refund one of the payments.",
                    "The invoice for order {order} includes a fee I never agreed to.",
                    "Payment for order {order} failed, but the money was taken from my account."),
        "product": ("The item from order {order} stopped working after a week.",
                    "Order {order} contains the wrong size.",
                    "A part is missing from the set in order {order}."),
        "returns": ("I want to return order {order}. How do I get a return label?",
                    "I sent back order {order} two weeks ago and still have no refund.",
                    "The return of order {order} was rejected without any explanation."),
        "account": ("I cannot log in to my account, customer number {order}.",
                    "Please change the address in my account, customer number {order}.",
                    "My loyalty points have disappeared from account {order}."),
        "app": ("The app crashes when I open order {order}.",
                "I cannot pay for order {order} in the app, the button does nothing.",
                "The website shows an error when I try to track order {order}."),
    },
    "ru": {
        "delivery": ("Заказ {order} до сих пор не пришёл, статус отслеживания не меняется уже три дня.",
                     "Курьер не приехал с заказом {order}. Когда его доставят?",
                     "Заказ {order} привезли повреждённым, коробка была смята."),
        "billing": ("За заказ {order} деньги списали дважды, верните, пожалуйста, один из платежей.",
                    "В счёте за заказ {order} есть сбор, на который я не соглашался.",
                    "Оплата заказа {order} не прошла, но деньги со счёта списались."),
        "product": ("Товар из заказа {order} перестал работать через неделю.",
                    "В заказе {order} прислали не тот размер.",
                    "В комплекте из заказа {order} не хватает детали."),
        "returns": ("Хочу вернуть заказ {order}. Как получить этикетку для возврата?",
                    "Я отправил заказ {order} обратно две недели назад, а деньги так и не вернули.",
                    "Возврат заказа {order} отклонили без объяснения причин."),
        "account": ("Не могу войти в личный кабинет, номер клиента {order}.",
                    "Измените, пожалуйста, адрес в личном кабинете, номер клиента {order}.",
                    "С моего счёта {order} пропали бонусные баллы."),
        "app": ("Приложение вылетает, когда я открываю заказ {order}.",
                "Не получается оплатить заказ {order} в приложении: кнопка не нажимается.",
                "Сайт выдаёт ошибку, когда я пытаюсь отследить заказ {order}."),
    },
    "pl": {
        "delivery": ("Zamówienie {order} jeszcze nie dotarło, a status przesyłki nie zmienia się od trzech dni.",
                     "Kurier nie przyjechał z zamówieniem {order}. Kiedy zostanie dostarczone?",
                     "Zamówienie {order} dotarło uszkodzone, karton był zgnieciony."),
        "billing": ("Za zamówienie {order} pobrano płatność dwukrotnie, proszę o zwrot jednej z nich.",
                    "Na fakturze za zamówienie {order} jest opłata, na którą się nie zgodziłem.",
                    "Płatność za zamówienie {order} nie przeszła, ale pieniądze zniknęły z konta."),
        "product": ("Produkt z zamówienia {order} przestał działać po tygodniu.",
                    "W zamówieniu {order} przysłano zły rozmiar.",
                    "W zestawie z zamówienia {order} brakuje jednej części."),
        "returns": ("Chcę zwrócić zamówienie {order}. Jak otrzymać etykietę zwrotną?",
                    "Odesłałem zamówienie {order} dwa tygodnie temu i nadal nie mam zwrotu pieniędzy.",
                    "Zwrot zamówienia {order} odrzucono bez żadnego wyjaśnienia."),
        "account": ("Nie mogę zalogować się na konto, numer klienta {order}.",
                    "Proszę zmienić adres na moim koncie, numer klienta {order}.",
                    "Z konta {order} zniknęły punkty lojalnościowe."),
        "app": ("Aplikacja się zawiesza, gdy otwieram zamówienie {order}.",
                "Nie mogę zapłacić za zamówienie {order} w aplikacji, przycisk nie działa.",
                "Strona pokazuje błąd, gdy próbuję śledzić zamówienie {order}."),
    },
}  # fmt: skip
# Every PII sentence contains "{x}" exactly once.
_PII_SENTENCES: Final[dict[str, dict[str, str]]] = {
    "en": {"email": " Please reply to {x}.", "phone": " Call me back on {x}.",
           "card": " I paid with card {x}.", "decoy": " Tracking number {x}."},
    "ru": {"email": " Ответьте, пожалуйста, на {x}.", "phone": " Перезвоните мне по номеру {x}.",
           "card": " Оплата была с карты {x}.", "decoy": " Трек-номер {x}."},
    "pl": {"email": " Proszę o odpowiedź na {x}.", "phone": " Proszę oddzwonić pod numer {x}.",
           "card": " Płatność kartą {x}.", "decoy": " Numer przesyłki {x}."},
}  # fmt: skip
_EMAIL_NAMES: Final[dict[str, tuple[str, ...]]] = {
    "en": ("john.smith", "emma.jones", "oliver.brown", "sophie.taylor", "jack.wilson"),
    "ru": ("ivan.petrov", "olga.smirnova", "sergey.ivanov", "anna.kuznetsova", "dmitry.sokolov"),
    "pl": ("anna.nowak", "piotr.kowalski", "katarzyna.wisniewska", "tomasz.wojcik", "marta.kaminska"),
}
_EMAIL_DOMAINS: Final[tuple[str, ...]] = ("example.com", "mail.example.org", "example.net")
_CARDS: Final[tuple[str, ...]] = ("4111 1111 1111 1111", "5555 5555 5555 4444")  # Luhn-valid test cards
_DECOY_NUMBERS: Final[tuple[str, ...]] = (
    "1234 5678 9012 3456",
    "4111 1111 1111 1112",
)  # 16 digits, not Luhn-valid
_PII_RATES: Final[dict[str, tuple[float, int]]] = {
    "email": (0.015, 3),
    "phone": (0.015, 3),
    "card": (0.007, 2),
    "decoy": (0.005, 2),
}

# --- employees and KPIs ----------------------------------------------------------------------------

#: Department names per language, in one order. The English names are the keys the tables below
#: (touchpoint owners, KPIs, PLANTED) use; the files get the client language's name.
_DEPARTMENT_NAMES: Final[dict[str, tuple[str, ...]]] = {
    "en": ("Marketing", "Sales", "E-commerce", "Logistics", "Customer Service", "Billing"),
    "ru": ("Маркетинг", "Продажи", "Электронная коммерция", "Логистика", "Клиентский сервис", "Биллинг"),
    "pl": ("Marketing", "Sprzedaż", "E-commerce", "Logistyka", "Obsługa klienta", "Rozliczenia"),
}
_DEPARTMENTS: Final[tuple[str, ...]] = _DEPARTMENT_NAMES["en"]
_DEPARTMENT_SHARES: Final[tuple[float, ...]] = (0.10, 0.14, 0.14, 0.24, 0.28, 0.10)
_DEPARTMENT_ENGAGEMENT: Final[tuple[float, ...]] = (0.35, 0.25, 0.45, -0.7, 0.15, 0.30)
_MOTIVATION_ITEMS: Final[tuple[str, ...]] = MOTIVATION_ITEMS
_MOTIVATION_OFFSET: Final = np.array([-0.3, -0.2, -0.1, 0.1, -0.3, 0.0, 0.4, 0.3])
_LOGISTICS_EXTRA: Final = np.array([-0.45, -0.45, -0.35, -0.35, -0.75, -0.65, -0.25, -0.45])
_ROLES: Final[dict[str, tuple[str, ...]]] = {
    "en": ("Specialist", "Senior specialist", "Team lead", "Manager"),
    "ru": ("Специалист", "Ведущий специалист", "Руководитель группы", "Менеджер"),
    "pl": ("Specjalista", "Starszy specjalista", "Kierownik zespołu", "Menedżer"),
}
_ROLE_SHARES: Final[tuple[float, ...]] = (0.55, 0.25, 0.12, 0.08)

# department, weight, is customer metric, (en, ru, pl)
_KPIS: Final[tuple[tuple[str, float, bool, tuple[str, str, str]], ...]] = (
    ("Marketing", 0.35, False, ("Qualified leads", "Квалифицированные лиды", "Kwalifikowane leady")),
    ("Marketing", 0.25, False, ("Brand awareness", "Узнаваемость бренда", "Rozpoznawalność marki")),
    ("Marketing", 0.25, False, ("Customer acquisition cost", "Стоимость привлечения клиента", "Koszt pozyskania klienta")),
    ("Marketing", 0.15, True, ("NPS", "NPS", "NPS")),
    ("Sales", 0.50, False, ("Sales revenue", "Выручка", "Przychody ze sprzedaży")),
    ("Sales", 0.30, False, ("Conversion rate", "Конверсия", "Współczynnik konwersji")),
    ("Sales", 0.20, True, ("Customer retention rate", "Удержание клиентов", "Wskaźnik utrzymania klientów")),
    ("E-commerce", 0.35, False, ("Online conversion", "Конверсия сайта", "Konwersja online")),
    ("E-commerce", 0.20, False, ("Site availability", "Доступность сайта", "Dostępność serwisu")),
    ("E-commerce", 0.20, True, ("App store rating", "Рейтинг приложения", "Ocena aplikacji w sklepie")),
    ("E-commerce", 0.25, True, ("Online CSAT", "CSAT онлайн-покупок", "CSAT zakupów online")),
    ("Logistics", 0.40, False, ("Cost per delivery", "Стоимость одной доставки", "Koszt jednej dostawy")),
    ("Logistics", 0.35, False, ("Orders dispatched per hour", "Отгрузка заказов в час", "Zamówienia wysłane na godzinę")),
    ("Logistics", 0.25, False, ("Fleet utilisation", "Загрузка автопарка", "Wykorzystanie floty")),
    ("Customer Service", 0.30, True, ("Post-contact CSAT", "CSAT после обращения", "CSAT po kontakcie")),
    ("Customer Service", 0.15, True, ("First-contact resolution", "Решение с первого обращения",
                                      "Rozwiązanie przy pierwszym kontakcie")),
    ("Customer Service", 0.35, False, ("Average handling time", "Среднее время обработки", "Średni czas obsługi")),
    ("Customer Service", 0.20, False, ("Tickets closed per agent", "Закрытые обращения на сотрудника",
                                       "Zgłoszenia zamknięte na pracownika")),
    ("Billing", 0.40, False, ("Invoice accuracy", "Точность счетов", "Dokładność faktur")),
    ("Billing", 0.40, False, ("Days sales outstanding", "Оборачиваемость дебиторской задолженности",
                              "Rotacja należności")),
    ("Billing", 0.20, True, ("Billing complaints per 1,000 invoices", "Жалобы на счета на 1000 счетов",
                             "Reklamacje faktur na 1000 faktur")),
)  # fmt: skip

# --- comments --------------------------------------------------------------------------------------

_THEMES: Final[tuple[str, ...]] = (
    "late_delivery",
    "phone_wait",
    "unexpected_fees",
    "other_negative",
    "neutral",
    "friendly_staff",
    "easy_app",
    "general_praise",
)
_NEGATIVE_THEMES: Final[frozenset[str]] = frozenset(
    {"late_delivery", "phone_wait", "unexpected_fees", "other_negative"}
)
_POSITIVE_THEMES: Final[frozenset[str]] = frozenset({"friendly_staff", "easy_app", "general_praise"})
# share of respondents who write a comment, by NPS group (promoter, passive, detractor)
_COMMENT_RATE: Final[tuple[float, float, float]] = (0.36, 0.34, 0.60)
# theme probabilities given a comment, rows = promoter, passive, detractor; columns = _THEMES
_THEME_P: Final = np.array(
    [
        [0.01, 0.01, 0.01, 0.02, 0.10, 0.32, 0.28, 0.25],
        [0.07, 0.06, 0.05, 0.17, 0.40, 0.10, 0.08, 0.07],
        [0.34, 0.24, 0.20, 0.17, 0.05, 0.00, 0.00, 0.00],
    ]
)
_CLOSER_RATE: Final[float] = 0.3
# share of the detractors who rated tp_delivery / tp_support_call 1–2 (and would not complain about
# fees) who complain about that touchpoint instead
_LOW_RATER_COMPLAINT: Final[float] = 0.5

# Template fields: {d} {days} a number of days and its word form; {m} {mins} minutes; {amt} an amount;
# gendered endings {a} (ru past tense / short adjective), {em} and {y} (pl past tense / adjective).
_COMMENTS: Final[dict[str, dict[str, tuple[str, ...]]]] = {
    "en": {
        "late_delivery": (
            "My order arrived {d} {days} late and nobody told me why.",
            "Delivery was late again, I waited {d} {days} longer than promised.",
            "The courier missed the delivery slot twice.",
            "Late delivery ruined the gift, it came {d} {days} after the date.",
            "Delivery took far too long, the parcel was 'in transit' for a week.",
            "My parcel was delayed by {d} {days}, really disappointing.",
        ),
        "phone_wait": (
            "I waited {m} {mins} on the phone before anyone answered.",
            "Calling the hotline is a nightmare, {m} {mins} on hold every time.",
            "Nobody picks up the phone, I was transferred three times.",
            "Long waiting on the line, after {m} {mins} of music I simply gave up.",
            "The support line kept me on hold for {m} {mins} and then the call dropped.",
        ),
        "unexpected_fees": (
            "I was charged an unexpected fee of {amt} that nobody mentioned at checkout.",
            "Hidden charges on my invoice again, {amt} extra for 'service'.",
            "The final price had extra fees I never agreed to.",
            "Nasty surprise: a service charge of {amt} appeared on the bill.",
            "Why am I paying a {amt} handling fee? It was not on the price list.",
        ),
        "other_negative": (
            "The product broke after two weeks, quality is not what it used to be.",
            "The website search never finds what I am looking for.",
            "Prices went up but the quality went down.",
            "I returned an item and I am still waiting for my money.",
        ),
        "neutral": (
            "Overall fine, nothing special.",
            "Good selection, but the checkout could be simpler.",
            "Decent service, average prices.",
            "It was okay, I would like to see more promotions.",
        ),
        "friendly_staff": (
            "The staff in the store were friendly and really helpful.",
            "Very polite consultant, solved my question in a minute.",
            "Friendly team, always happy to help.",
            "Thanks to the store staff for the kind attention!",
        ),
        "easy_app": (
            "The app is easy to use, I ordered in two minutes.",
            "Love the mobile app, everything is clear and fast.",
            "Ordering through the app is so convenient.",
            "Great app, reordering my favourites takes one tap.",
        ),
        "general_praise": (
            "Great service, I recommend you to all my friends.",
            "Always a pleasure to shop here.",
            "Good prices and a wide choice.",
        ),
    },
    "ru": {
        "late_delivery": (
            "Заказ привезли с опозданием на {d} {days}, и никто не объяснил причину.",
            "Доставка опять задержалась, я ждал{a} на {d} {days} дольше обещанного.",
            "Курьер дважды не приехал в выбранный интервал доставки.",
            "Из-за задержки доставки подарок пришёл через {d} {days} после праздника.",
            "Доставка заняла слишком много времени, посылка неделю висела в статусе «в пути».",
            "Посылку задержали на {d} {days}, я очень разочарован{a}.",
        ),
        "phone_wait": (
            "Я прождал{a} на линии {m} {mins}, прежде чем мне ответили.",
            "Дозвониться на горячую линию невозможно, каждый раз {m} {mins} ожидания.",
            "По телефону никто не отвечает, меня трижды переключали между операторами.",
            "Очень долгое ожидание на линии, после {m} минут музыки я просто сдал{sya}.",
            "Оператор держал меня на удержании {m} {mins}, а потом звонок оборвался.",
        ),
        "unexpected_fees": (
            "С меня списали неожиданную комиссию {amt}, о которой при оформлении не было ни слова.",
            "В счёте опять скрытые платежи, лишние {amt} за «обслуживание».",
            "В итоговой цене оказались дополнительные сборы, на которые я не соглашал{sya}.",
            "Неприятный сюрприз: в чеке появилась плата за обслуживание {amt}.",
            "Почему я плачу сбор {amt}? В прайс-листе его не было.",
        ),
        "other_negative": (
            "Товар сломался через две недели, качество уже не то.",
            "Поиск на сайте никогда не находит то, что нужно.",
            "Цены выросли, а качество упало.",
            "Я вернул{a} товар и до сих пор жду свои деньги.",
        ),
        "neutral": (
            "В целом нормально, ничего особенного.",
            "Хороший ассортимент, но оформление заказа можно упростить.",
            "Сервис неплохой, цены средние.",
            "Всё было нормально, хотелось бы больше акций.",
        ),
        "friendly_staff": (
            "Очень вежливые и доброжелательные сотрудники в магазине.",
            "Консультант был очень любезен и решил мой вопрос за минуту.",
            "Дружелюбная команда, всегда готовы помочь.",
            "Спасибо сотрудникам магазина за внимательное отношение!",
        ),
        "easy_app": (
            "Приложение очень удобное, я оформил{a} заказ за две минуты.",
            "Нравится мобильное приложение: всё понятно и быстро.",
            "Заказывать через приложение очень удобно.",
            "Отличное приложение, повторить любимый заказ можно в одно касание.",
        ),
        "general_praise": (
            "Отличный сервис, рекомендую вас всем друзьям.",
            "Покупать у вас всегда приятно.",
            "Хорошие цены и большой выбор.",
        ),
    },
    "pl": {
        "late_delivery": (
            "Zamówienie dotarło z {d}-dniowym opóźnieniem i nikt nie wyjaśnił dlaczego.",
            "Dostawa znowu się spóźniła, czekał{em} {d} {days} dłużej, niż obiecano.",
            "Kurier dwa razy nie przyjechał w wybranym oknie dostawy.",
            "Przez opóźnioną dostawę prezent dotarł {d} {days} po terminie.",
            "Dostawa trwała zdecydowanie za długo, paczka przez tydzień miała status „w drodze”.",
            "Paczka była opóźniona o {d} {days}, jestem bardzo rozczarowan{y}.",
        ),
        "phone_wait": (
            "Czekał{em} {m} {mins} na połączenie, zanim ktoś odebrał.",
            "Dodzwonienie się na infolinię to koszmar, za każdym razem {m} {mins} czekania.",
            "Nikt nie odbiera telefonu, trzy razy przełączano mnie między konsultantami.",
            "Bardzo długie oczekiwanie na linii, po {m} minutach muzyki po prostu się rozłączył{em}.",
            "Konsultant trzymał mnie na linii {m} {mins}, a potem połączenie zostało przerwane.",
        ),
        "unexpected_fees": (
            "Naliczono mi nieoczekiwaną opłatę {amt}, o której nic nie wspomniano przy zamówieniu.",
            "Znowu ukryte opłaty na fakturze, dodatkowe {amt} za „obsługę”.",
            "W końcowej cenie pojawiły się dodatkowe opłaty, na które się nie zgadzał{em}.",
            "Niemiła niespodzianka: na rachunku pojawiła się opłata serwisowa {amt}.",
            "Dlaczego płacę prowizję {amt}? Nie było jej w cenniku.",
        ),
        "other_negative": (
            "Produkt zepsuł się po dwóch tygodniach, jakość już nie ta.",
            "Wyszukiwarka na stronie nigdy nie znajduje tego, czego szukam.",
            "Ceny poszły w górę, a jakość spadła.",
            "Zwrócił{em} towar i wciąż czekam na swoje pieniądze.",
        ),
        "neutral": (
            "Ogólnie w porządku, nic szczególnego.",
            "Dobry wybór produktów, ale składanie zamówienia mogłoby być prostsze.",
            "Przyzwoity serwis, przeciętne ceny.",
            "Było okej, przydałoby się więcej promocji.",
        ),
        "friendly_staff": (
            "Personel w sklepie był miły i naprawdę pomocny.",
            "Bardzo uprzejmy doradca, rozwiązał mój problem w minutę.",
            "Przyjazny zespół, zawsze chętny do pomocy.",
            "Dziękuję pracownikom sklepu za życzliwe podejście!",
        ),
        "easy_app": (
            "Aplikacja jest bardzo wygodna, zamówił{em} w dwie minuty.",
            "Uwielbiam aplikację mobilną, wszystko jest jasne i szybkie.",
            "Zamawianie przez aplikację jest bardzo wygodne.",
            "Świetna aplikacja, ponowne zamówienie ulubionych produktów to jedno kliknięcie.",
        ),
        "general_praise": (
            "Świetna obsługa, polecam wszystkim znajomym.",
            "Zakupy u was to zawsze przyjemność.",
            "Dobre ceny i duży wybór.",
        ),
    },
}
_CLOSERS: Final[dict[str, dict[str, tuple[str, ...]]]] = {
    "en": {
        "negative": ("Please fix this.", "I am thinking of switching to another shop.", "Very disappointed."),
        "positive": ("Keep it up!", "Thank you!"),
    },
    "ru": {
        "negative": ("Исправьте это, пожалуйста.", "Подумываю уйти к конкурентам.", "Очень разочарован{a}."),
        "positive": ("Так держать!", "Спасибо!"),
    },
    "pl": {
        "negative": (
            "Proszę to naprawić.",
            "Zastanawiam się nad zmianą sklepu.",
            "Jestem bardzo rozczarowan{y}.",
        ),
        "positive": ("Tak trzymać!", "Dziękuję!"),
    },
}
_GENDER_FILLS: Final[tuple[dict[str, str], dict[str, str]]] = (
    {"a": "", "sya": "ся", "em": "em", "y": "y"},
    {"a": "а", "sya": "ась", "em": "am", "y": "a"},
)


def _ru_plural(n: int, one: str, few: str, many: str) -> str:
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def _pl_plural(n: int, one: str, few: str, many: str) -> str:
    if n == 1:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


_DAY_VALUES: Final[tuple[int, ...]] = (2, 3, 4, 5, 7, 10)
_MINUTE_VALUES: Final[tuple[int, ...]] = (15, 20, 22, 30, 40, 45)
_AMOUNTS: Final[dict[str, tuple[str, ...]]] = {
    "en": ("$4.99", "$7.50", "$12.00"),
    "ru": ("199 ₽", "299 ₽", "490 ₽"),
    "pl": ("9,99 zł", "14,50 zł", "19 zł"),
}


def _day_word(lang: str, n: int) -> str:
    if lang == "ru":
        return _ru_plural(n, "день", "дня", "дней")
    if lang == "pl":
        return _pl_plural(n, "dzień", "dni", "dni")
    return "day" if n == 1 else "days"


def _minute_word(lang: str, n: int) -> str:
    if lang == "ru":
        return _ru_plural(n, "минуту", "минуты", "минут")
    if lang == "pl":
        return _pl_plural(n, "minutę", "minuty", "minut")
    return "minute" if n == 1 else "minutes"


def _expand(template: str, lang: str, gender: int) -> list[str]:
    """All fillings of one template for one grammatical gender."""
    fields = {f for _, f, _, _ in string.Formatter().parse(template) if f}
    days = [{"d": d, "days": _day_word(lang, d)} for d in _DAY_VALUES] if "d" in fields else [{}]
    mins = [{"m": m, "mins": _minute_word(lang, m)} for m in _MINUTE_VALUES] if "m" in fields else [{}]
    amts = [{"amt": a} for a in _AMOUNTS[lang]] if "amt" in fields else [{}]
    return [template.format(**_GENDER_FILLS[gender], **x, **y, **z) for x in days for y in mins for z in amts]


def _pool(templates: tuple[str, ...], lang: str, gender: int) -> tuple[np.ndarray, np.ndarray]:
    """Sentences and their probabilities: each template equally likely, then each filling."""
    texts: list[str] = []
    probs: list[float] = []
    for t in templates:
        variants = _expand(t, lang, gender)
        texts += variants
        probs += [1.0 / (len(templates) * len(variants))] * len(variants)
    p = np.array(probs)
    return np.array(texts, dtype=object), p / p.sum()


# --- the machine-readable truth ---------------------------------------------------------------------


def _count(n: int, rate: float, minimum: int) -> int:
    return max(minimum, int(round(rate * n)))


_QUALITY_RATES: Final[dict[str, tuple[float, int]]] = {
    "speeder": (0.015, 5),
    "straightliner": (0.007, 4),
    "duplicate_id": (0.002, 3),
    "out_of_range": (0.001, 4),
    "invalid_date": (0.001, 4),
    "missing_nps": (0.02, 6),
    "missing_csat": (0.05, 10),
    "missing_ces": (0.04, 8),
}


def _quality_counts(n_rows: int) -> dict[str, int]:
    return {k: _count(n_rows, r, m) for k, (r, m) in _QUALITY_RATES.items()}


def _pii_counts(n_rows: int) -> dict[str, int]:
    return {k: _count(n_rows, r, m) for k, (r, m) in _PII_RATES.items()}


def _by_lang(values: Mapping[str, Sequence[str]], i: int) -> dict[str, str]:
    return {lang: values[lang][i] for lang in DEMO_LANGUAGES}


def _department(name: str, lang: str) -> str:
    """The client-language name of a department given by its English name (the key used here)."""
    return _DEPARTMENT_NAMES[lang][_DEPARTMENTS.index(name)]


#: Machine-readable description of every planted effect. Localised values are given per language.
PLANTED: Final[dict[str, Any]] = {
    "sizes": SIZES,
    "period": {"start": str(_START), "end": str(_END)},
    "client_name": dict(_CLIENT_NAMES),
    "segments": {lang: list(v) for lang, v in _SEGMENTS.items()},
    "regions": {lang: list(v) for lang, v in _REGIONS.items()},
    # department names as written in the files per language; elsewhere in PLANTED a department is
    # named by its English name (index into these lists: _DEPARTMENTS order)
    "departments": {lang: list(v) for lang, v in _DEPARTMENT_NAMES.items()},
    "touchpoints": {
        t[0]: {
            "stage": t[1],
            "channel": t[2],
            "owner_department": t[3],
            "mean": t[4],
            "usage": t[5],
            "weight": t[6],
        }
        for t in _TOUCHPOINTS
    },
    "key_drivers": {
        "touchpoints": ["tp_delivery", "tp_support_call"],
        "weights": {t[0]: t[6] for t in _TOUCHPOINTS},
        "min_ratio": round(min(1.00, 0.95) / max(t[6] for t in _TOUCHPOINTS if t[6] < 0.9), 2),
    },
    "low_nps_segment": {
        "column": "segment",
        "key": "small_business",
        "value": _by_lang(_SEGMENTS, 1),
        "nps_gap": -15,
    },
    "churn": {
        "group_from": "most recent valid response (parseable date, NPS 0-10, not a speeder)",
        "rates": dict(zip(_NPS_GROUPS, _CHURN_RATES, strict=True)),
        "detractor_to_promoter_ratio": 3.0,
        "exact_counts": True,
        "reasons": {
            lang: dict(zip(_CHURN_REASON_KEYS, v, strict=True)) for lang, v in _CHURN_REASONS.items()
        },
        "detractor_top_reasons": ["delivery_problems", "poor_support"],
        "ticket_rate_ratio_churned": 2.0,
    },
    "tickets": {
        "slow_channel": "social",
        "median_first_response_minutes": {k: v[0] for k, v in _FIRST_RESPONSE.items()},
        "channels": list(_TICKET_CHANNELS),
        "categories": {
            lang: dict(zip(_TICKET_CATEGORY_KEYS, v, strict=True)) for lang, v in _TICKET_CATEGORIES.items()
        },
        "unresolved_share": _UNRESOLVED,
        "no_first_response_share": _NO_FIRST_RESPONSE,
        "csat_missing_share": 0.5,
    },
    "low_motivation_department": {
        "department": "Logistics",
        "name": _by_lang(_DEPARTMENT_NAMES, _DEPARTMENTS.index("Logistics")),
        "owns": "tp_delivery",
        "enps_sign": "negative",
        "motivation_gap": -1.0,
        "lowest_items": ["mot_workload", "mot_tools"],
    },
    "lowest_rated_touchpoint": "tp_delivery",
    "themes": {
        "complaints": ["late_delivery", "phone_wait", "unexpected_fees"],
        "praise": ["friendly_staff", "easy_app"],
        "other": ["other_negative", "neutral", "general_praise"],
        "min_detractor_share": 0.7,
        "comment_share": 0.4,
        # detractors who rated the touchpoint 1-2 (fees complaints aside): this share of them
        # complains about the touchpoint's theme instead
        "low_rater_links": {"tp_delivery": "late_delivery", "tp_support_call": "phone_wait"},
        "low_rater_link_share": _LOW_RATER_COMPLAINT,
        # one regular expression per theme (match case-insensitively); every sentence of the theme matches
        # its own pattern and no pattern of another theme
        "patterns": {
            "en": {
                "late_delivery": r"deliver|courier|parcel|arrived",
                "phone_wait": r"phone|hotline|on hold|on the line|support line",
                "unexpected_fees": r"\bfees?\b|charge",
                "friendly_staff": r"staff|friendly|polite|consultant",
                "easy_app": r"\bapp\b",
            },
            "ru": {
                "late_delivery": r"доставк|курьер|посылк|привезли|пришёл",
                "phone_wait": r"на линии|горячую линию|телефон|оператор",
                "unexpected_fees": r"комисси|сбор|скрыт|плата за",
                "friendly_staff": r"сотрудник|консультант|команда",
                "easy_app": r"приложени",
            },
            "pl": {
                "late_delivery": r"dostaw|kurier|paczk|dotarł",
                "phone_wait": r"infolini|telefon|na linii|na połączenie|konsultant",
                "unexpected_fees": r"opłat|prowizj",
                "friendly_staff": r"personel|doradca|zespół|pracownik",
                "easy_app": r"aplikacj",
            },
        },
    },
    "kpis": {
        "no_customer_metric_department": "Logistics",
        "customer_focused_department": "Customer Service",
        "customer_weight": {
            d: round(sum(w for dd, w, c, _ in _KPIS if dd == d and c), 2) for d in _DEPARTMENTS
        },
        "min_customer_weight": 0.4,
    },
    "seasonal_dip": {"months": list(_PEAK_MONTHS), "nps_gap": -8, "response_volume_factor": 1.35},
    "quality": {
        "rates": {k: r for k, (r, _) in _QUALITY_RATES.items()},
        "counts": {s: _quality_counts(v["responses"]) for s, v in SIZES.items()},
        "invalid_date_values": ["31/02/2025", "n/a"],
        "out_of_range_values": [11, -1],
        "speeder_fraction_of_median": 1 / 3,
        "straightliner_min_items": 5,
        "unique_responses": {
            s: v["responses"] - _quality_counts(v["responses"])["duplicate_id"] for s, v in SIZES.items()
        },
    },
    "pii": {
        "counts": {s: _pii_counts(v["tickets"]) for s, v in SIZES.items()},
        "cards": list(_CARDS),
        "decoys_not_luhn": list(_DECOY_NUMBERS),
        "phone_examples": {"en": "+1 415 555 0134", "ru": "+7 912 345-67-89", "pl": "+48 601 234 567"},
        "email_domains": list(_EMAIL_DOMAINS),
    },
}


# --- helpers ---------------------------------------------------------------------------------------


def _rint(x: np.ndarray, lo: int, hi: int) -> np.ndarray:
    return np.clip(np.rint(x), lo, hi).astype(np.int64)


def _fixed_counts(n: int, shares: tuple[float, ...]) -> np.ndarray:
    """Largest-remainder apportionment of n into len(shares) exact counts."""
    raw = np.asarray(shares) * n
    counts = np.floor(raw).astype(np.int64)
    rest = n - counts.sum()
    counts[np.argsort(-(raw - counts), kind="stable")[:rest]] += 1
    return counts


def _ids(prefix: str, n: int, width: int) -> np.ndarray:
    return np.char.add(prefix, np.char.zfill(np.arange(1, n + 1).astype(str), max(width, len(str(n)))))


def _fmt_minutes(t: np.ndarray) -> np.ndarray:
    """datetime64[m] -> 'YYYY-MM-DD HH:MM'."""
    return np.char.replace(np.datetime_as_string(t.astype("datetime64[m]"), unit="m"), "T", " ")


def _fmt_seconds(t: np.ndarray) -> np.ndarray:
    """datetime64[s] (NaT allowed) -> 'YYYY-MM-DD HH:MM:SS' or ''."""
    out = np.char.replace(np.datetime_as_string(t.astype("datetime64[s]"), unit="s"), "T", " ").astype(object)
    out[np.isnat(t)] = ""
    return out


def _fmt_days(t: np.ndarray) -> np.ndarray:
    out = np.datetime_as_string(t.astype("datetime64[D]"), unit="D").astype(object)
    out[np.isnat(t)] = ""
    return out


def _pick(rng: np.random.Generator, values: tuple[str, ...] | list[str], n: int) -> np.ndarray:
    return np.asarray(values, dtype=object)[rng.integers(0, len(values), n)]


def _int_col(values: np.ndarray, missing: np.ndarray | None = None) -> pd.Series:
    s = pd.Series(values, dtype="Int64")
    if missing is not None:
        s[missing] = pd.NA
    return s


# --- tables ----------------------------------------------------------------------------------------


def _customer_base(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    seg = rng.choice(3, n, p=_SEGMENT_SHARES)
    region = rng.choice(len(_REGION_SHARES), n, p=_REGION_SHARES)
    med = np.array([m for m, _ in _REVENUE])[seg]
    sd = np.array([s for _, s in _REVENUE])[seg]
    revenue = np.round(med * np.exp(sd * rng.standard_normal(n)), 2)
    return {"segment": seg, "region": region, "revenue": revenue}


def _responses(
    rng: np.random.Generator, n_rows: int, cust: dict[str, np.ndarray], lang: str,
    wave: dict[str, Any] | None = None,
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """The survey responses and, for the churn step, the per-row truth (customer, time, group, validity).

    ``wave`` (later demo waves, :func:`generate_waves`): ``tp_mean_shift`` {touchpoint: points} moves a
    touchpoint's nominal mean rating, ``segment_shift`` {segment key: latent points} adds to a segment's
    latent loyalty; None (the baseline) draws exactly what it always did."""
    q = _quality_counts(n_rows)
    n = n_rows - q["duplicate_id"]
    n_cust = len(cust["segment"])
    n_tp = len(_TOUCHPOINTS)

    # when: more responses in peak season, daytime hours; rows in time order
    day_month = (_START + np.arange(_N_DAYS)).astype("datetime64[M]").astype(str)
    w = np.where(np.isin(day_month, _PEAK_MONTHS), PLANTED["seasonal_dip"]["response_volume_factor"], 1.0)
    day = rng.choice(_N_DAYS, n, p=w / w.sum())
    minute = rng.choice(24, n, p=_RESPONSE_HOURS / _RESPONSE_HOURS.sum()) * 60 + rng.integers(0, 60, n)
    t = np.sort(day.astype(np.int64) * 1440 + minute)
    day = t // 1440
    peak = np.isin(day_month[day], _PEAK_MONTHS)

    who = rng.integers(0, n_cust, n)
    seg = cust["segment"][who]
    channel = rng.choice(len(_RESPONSE_CHANNELS), n, p=_RESPONSE_CHANNEL_SHARES)

    # disjoint blocks of planted problems
    perm = rng.permutation(n)
    blocks: dict[str, np.ndarray] = {}
    at = 0
    for key in ("speeder", "straightliner", "out_of_range", "invalid_date", "missing_nps"):
        blocks[key] = np.sort(perm[at : at + q[key]])
        at += q[key]
    planted_rows = perm[:at]

    # touchpoint usage and ratings
    tp_channel = np.array([t_[2] for t_ in _TOUCHPOINTS])
    p_use = np.array([t_[5] for t_ in _TOUCHPOINTS])[None, :]
    same_channel = tp_channel[None, :] == np.asarray(_RESPONSE_CHANNELS)[channel][:, None]
    used = rng.random((n, n_tp)) < np.where(same_channel, np.minimum(p_use + 0.3, 0.9), p_use)
    mean = np.array([t_[4] for t_ in _TOUCHPOINTS])
    if wave:
        mean = mean + np.array([wave.get("tp_mean_shift", {}).get(tp, 0.0) for tp in _TP_IDS])
    shift = np.zeros((n, n_tp))
    shift[:, _TP_DELIVERY] = -_PEAK_DELIVERY_DROP * peak
    halo = rng.standard_normal(n)[:, None]
    ratings = _rint(
        mean[None, :] + shift + _HALO * halo + _RATING_NOISE * rng.standard_normal((n, n_tp)), 1, 5
    )

    # straight-liners: at least six touchpoints, all rated the same
    sl = blocks["straightliner"]
    force = np.argsort(rng.random((len(sl), n_tp)), axis=1)[:, :6]
    used_sl = used[sl]
    np.put_along_axis(used_sl, force, True, axis=1)
    used[sl] = used_sl
    ratings[sl] = rng.choice([3, 4, 5], len(sl), p=[0.2, 0.3, 0.5])[:, None]
    # nobody else is a straight-liner by accident: nudge one rating
    big = np.where(used, ratings, 99).min(axis=1)
    small = np.where(used, ratings, -99).max(axis=1)
    accidental = (used.sum(axis=1) >= 5) & (big == small)
    accidental[sl] = False
    rows = np.flatnonzero(accidental)
    cols = used[rows].argmax(axis=1)
    old = ratings[rows, cols]
    ratings[rows, cols] = np.where(old == 1, 2, old - 1)

    # latent satisfaction -> NPS, CSAT, CES
    weight = np.array([t_[6] for t_ in _TOUCHPOINTS])
    drive = ((ratings - mean[None, :]) * used) @ weight
    seg_shift = np.asarray(_SEGMENT_SHIFT) + (np.array([(wave or {}).get("segment_shift", {}).get(k, 0.0)
                                                         for k in _SEGMENT_KEYS]) if wave else 0.0)
    latent = _NPS_BASE + drive + seg_shift[seg] + _NPS_NOISE * rng.standard_normal(n)
    nps = _rint(latent, 0, 10)
    csat = _rint(4.0 + 0.42 * (latent - _NPS_BASE) + 0.65 * rng.standard_normal(n), 1, 5)
    ces = _rint(5.2 + 0.5 * (latent - _NPS_BASE) + 0.9 * rng.standard_normal(n), 1, 7)
    group = np.where(nps >= 9, 0, np.where(nps >= 7, 1, 2))  # promoter, passive, detractor

    duration = _rint(np.exp(np.log(300.0) + 0.35 * rng.standard_normal(n)), 150, 1800)
    duration[blocks["speeder"]] = rng.integers(25, 86, len(blocks["speeder"]))

    # comments
    gender = rng.integers(0, 2, n)
    writes = rng.random(n) < np.asarray(_COMMENT_RATE)[group]
    writes[blocks["speeder"]] = False
    theme = np.zeros(n, dtype=np.int64)
    for g in range(3):
        rows = np.flatnonzero(group == g)
        theme[rows] = rng.choice(len(_THEMES), len(rows), p=_THEME_P[g] / _THEME_P[g].sum())
    # A detractor who rated a touchpoint low complains about it: the link the low-rater view finds within
    # NPS groups. Drawn from a spawned generator so the main stream (everything else) is unchanged.
    u_link = rng.spawn(1)[0].random((n, 2))
    # Fees complaints never switch, so that theme keeps its detractor share.
    vague = theme != _THEMES.index("unexpected_fees")
    for k, (tp, th) in enumerate(((_TP_DELIVERY, "late_delivery"), (_TP_SUPPORT_CALL, "phone_wait"))):
        low = (group == 2) & used[:, tp] & (ratings[:, tp] <= 2) & vague & (u_link[:, k] < _LOW_RATER_COMPLAINT)
        theme[low] = _THEMES.index(th)
        vague &= ~low
    comment = np.full(n, "", dtype=object)
    closer_u = rng.random(n)
    for ti, th in enumerate(_THEMES):
        for g in (0, 1):
            rows = np.flatnonzero(writes & (theme == ti) & (gender == g))
            if not len(rows):
                continue
            texts, p = _pool(_COMMENTS[lang][th], lang, g)
            comment[rows] = texts[rng.choice(len(texts), len(rows), p=p)]
            tone = "negative" if th in _NEGATIVE_THEMES else "positive" if th in _POSITIVE_THEMES else None
            if tone is None:
                continue
            extra = rows[closer_u[rows] < _CLOSER_RATE]
            ctexts, cp = _pool(_CLOSERS[lang][tone], lang, g)
            comment[extra] = comment[extra] + " " + ctexts[rng.choice(len(ctexts), len(extra), p=cp)]

    # corrupt
    nps_out = _int_col(nps, blocks["missing_nps"])
    oor = blocks["out_of_range"]
    nps_out[oor] = np.where(np.arange(len(oor)) % 2 == 0, 11, -1)
    missing_csat = rng.choice(n, q["missing_csat"], replace=False)
    missing_ces = rng.choice(n, q["missing_ces"], replace=False)
    submitted = _fmt_minutes(_START.astype("datetime64[m]") + t.astype("timedelta64[m]")).astype(object)
    bad = blocks["invalid_date"]
    submitted[bad] = np.where(np.arange(len(bad)) % 2 == 0, "31/02/2025", "n/a")

    df = pd.DataFrame(
        {
            "Response ID": _ids("R", n, 6),
            "Customer ID": _ids("C", n_cust, 5)[who],
            "Submitted": submitted,
            "Q1 Recommend (0-10)": nps_out,
            "Q2 Satisfaction (1-5)": _int_col(csat, missing_csat),
            "Q3 Ease (1-7)": _int_col(ces, missing_ces),
            "Comment": comment,
            "Duration (s)": duration,
            "segment": np.asarray(_SEGMENTS[lang], dtype=object)[seg],
            "region": np.asarray(_REGIONS[lang], dtype=object)[cust["region"][who]],
            "channel": np.asarray(_RESPONSE_CHANNELS, dtype=object)[channel],
        }
    )
    for j, tp_id in enumerate(_TP_IDS):
        df[tp_id] = _int_col(ratings[:, j], ~used[:, j])

    # duplicates: exact copies of clean rows, re-appended at the end
    clean = np.ones(n, dtype=bool)
    clean[planted_rows] = False
    clean[missing_csat] = False
    clean[missing_ces] = False
    src = np.sort(rng.choice(np.flatnonzero(clean), q["duplicate_id"], replace=False))
    df = pd.concat([df, df.iloc[src]], ignore_index=True)

    valid = np.ones(n, dtype=bool)
    valid[blocks["speeder"]] = False
    valid[blocks["out_of_range"]] = False
    valid[blocks["invalid_date"]] = False
    valid[blocks["missing_nps"]] = False
    truth = {"customer": who, "day": day, "group": group, "valid": valid}
    return df, truth


_CHURN_WINDOW_DAYS = 90
_CHURN_TIME_LEFT = 3.0


def _customers(
    rng: np.random.Generator, cust: dict[str, np.ndarray], truth: dict[str, np.ndarray], lang: str
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    n = len(cust["segment"])
    end = _N_DAYS - 1
    # NPS group of the most recent valid response (rows are in time order)
    v = truth["valid"]
    last_group = pd.Series(truth["group"][v]).groupby(truth["customer"][v]).last()
    group = np.full(n, 3)
    group[last_group.index.to_numpy()] = last_group.to_numpy()
    by_cust = pd.Series(truth["day"]).groupby(truth["customer"])
    first_day = np.full(n, end)
    last_day = np.full(n, -(10**6))
    first_day[by_cust.min().index.to_numpy()] = by_cust.min().to_numpy()
    last_day[by_cust.max().index.to_numpy()] = by_cust.max().to_numpy()

    # start date: before the first response (or the end of the period)
    start = first_day - 14 - np.minimum(rng.exponential(900.0, n), 12 * 365).astype(np.int64)
    tenure_years = (end - start) / 365.25

    # a customer churns after the last answer (lo: a week later at the earliest)
    lo = np.maximum.reduce([last_day + 7, start + 30, np.zeros(n, dtype=np.int64)])
    lo = np.minimum(lo, end)

    # exact churn counts per group; shorter tenure churns a little more often (Gumbel top-k). Customers
    # whose last answer is late have less time left to leave in; weighting by it keeps monthly churn flat.
    key = -0.25 * tenure_years + _CHURN_TIME_LEFT * (end - lo) / end + rng.gumbel(size=n)
    order = np.lexsort((-key, group))
    sizes = np.bincount(group, minlength=4)
    k = np.rint(np.asarray(_CHURN_RATES) * sizes).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - starts[group[order]]
    churned = rank < k[group]

    # Churn follows the last answer within a few months (_CHURN_WINDOW_DAYS) for customers who answered,
    # any time for those who never did: uniform over [lo, end] for all would pile churn up at the period end,
    # because last answers are late for customers who answered several times.
    answered = last_day > -(10**6)
    window = np.where(answered, np.minimum(end - lo + 1, _CHURN_WINDOW_DAYS), end - lo + 1)
    churn_day = lo + np.floor(rng.random(n) * window).astype(np.int64)
    reason_det = rng.choice(len(_CHURN_REASON_KEYS), n, p=_REASON_P_DETRACTOR)
    reason_oth = rng.choice(len(_CHURN_REASON_KEYS), n, p=_REASON_P_OTHER)
    reason = np.where(group == 2, reason_det, reason_oth)
    stop = np.where(churned, churn_day, end)
    tenure_months = np.floor((stop - start) / 30.4375).astype(np.int64)

    churn_date = np.where(churned, _START + churn_day.astype("timedelta64[D]"), np.datetime64("NaT", "D"))
    df = pd.DataFrame(
        {
            "customer_id": _ids("C", n, 5),
            "segment": np.asarray(_SEGMENTS[lang], dtype=object)[cust["segment"]],
            "region": np.asarray(_REGIONS[lang], dtype=object)[cust["region"]],
            "start_date": _fmt_days(_START + start.astype("timedelta64[D]")),
            "tenure_months": tenure_months,
            "revenue": cust["revenue"],
            "churned": churned.astype(np.int64),
            "churn_date": _fmt_days(churn_date),
            "churn_reason": np.where(churned, np.asarray(_CHURN_REASONS[lang], dtype=object)[reason], ""),
        }
    )
    return df, {"start": start, "churned": churned, "churn_day": churn_day}


def _tickets(rng: np.random.Generator, n: int, life: dict[str, np.ndarray], lang: str) -> pd.DataFrame:
    n_cust = len(life["start"])
    end = _N_DAYS - 1
    w = 1.0 + life["churned"]
    who = rng.choice(n_cust, n, p=w / w.sum())
    lo = np.clip(life["start"][who], 0, end)
    hi = np.where(life["churned"][who], life["churn_day"][who], end)
    hi = np.maximum(hi, lo)
    day = lo + np.floor(rng.random(n) * (hi - lo + 1)).astype(np.int64)
    sec = rng.choice(24, n, p=_TICKET_HOURS / _TICKET_HOURS.sum()) * 3600 + rng.integers(0, 3600, n)
    created_s = np.sort(day * 86400 + sec)
    who = who[np.argsort(day * 86400 + sec, kind="stable")]

    channel = rng.choice(len(_TICKET_CHANNELS), n, p=_TICKET_CHANNEL_SHARES)
    med = np.array([_FIRST_RESPONSE[c][0] for c in _TICKET_CHANNELS])[channel]
    sd = np.array([_FIRST_RESPONSE[c][1] for c in _TICKET_CHANNELS])[channel]
    first_s = created_s + np.rint(60.0 * med * np.exp(sd * rng.standard_normal(n))).astype(np.int64)
    fast = np.isin(channel, [0, 1])  # phone, chat resolve faster
    resolve_s = first_s + np.rint(
        3600.0 * np.where(fast, 2.0, 20.0) * np.exp(1.1 * rng.standard_normal(n))
    ).astype(np.int64)
    horizon = (end + 1) * 86400
    no_first = (rng.random(n) < _NO_FIRST_RESPONSE) | (first_s >= horizon)
    unresolved = no_first | (rng.random(n) < _UNRESOLVED) | (resolve_s >= horizon)
    base = _START.astype("datetime64[s]")
    nat = np.datetime64("NaT", "s")
    created = base + created_s.astype("timedelta64[s]")
    first = np.where(no_first, nat, base + first_s.astype("timedelta64[s]"))
    resolved = np.where(unresolved, nat, base + resolve_s.astype("timedelta64[s]"))

    wait_h = (first_s - created_s) / 3600.0
    csat_latent = 4.4 - 0.35 * np.log1p(wait_h) - 1.3 * unresolved + 0.8 * rng.standard_normal(n)
    csat = _rint(csat_latent, 1, 5)
    csat_missing = rng.random(n) < 0.5

    category = rng.choice(len(_TICKET_CATEGORY_KEYS), n, p=_TICKET_CATEGORY_SHARES)
    which = rng.integers(0, 3, n)
    heads = np.empty(n, dtype=object)
    tails = np.empty(n, dtype=object)
    for ci, ck in enumerate(_TICKET_CATEGORY_KEYS):
        parts = [s.split("{order}") for s in _TICKET_TEXTS[lang][ck]]
        rows = category == ci
        heads[rows] = np.asarray([p[0] for p in parts], dtype=object)[which[rows]]
        tails[rows] = np.asarray([p[1] for p in parts], dtype=object)[which[rows]]
    order_no = rng.integers(100_000, 1_000_000, n).astype(str).astype(object)
    text = heads + order_no + tails

    # personal data in a few texts (disjoint rows)
    counts = _pii_counts(n)
    perm = rng.permutation(n)
    at = 0
    for kind in ("email", "phone", "card", "decoy"):
        rows = np.sort(perm[at : at + counts[kind]])
        at += counts[kind]
        k = len(rows)
        if kind == "email":
            digits = rng.integers(1, 100, k).astype(str).astype(object)
            value = _pick(rng, _EMAIL_NAMES[lang], k) + digits + "@" + _pick(rng, _EMAIL_DOMAINS, k)
        elif kind == "phone":
            d = [
                np.char.zfill(rng.integers(0, 10**w_, k).astype(str), w_).astype(object)
                for w_ in (2, 3, 2, 2, 3)
            ]
            if lang == "ru":
                value = "+7 9" + d[0] + " " + d[1] + "-" + d[2] + "-" + d[3]
            elif lang == "pl":
                value = "+48 6" + d[0] + " " + d[1] + " " + d[4]
            else:
                value = "+1 415 555 0" + d[4]
        elif kind == "card":
            value = _pick(rng, _CARDS, k)
        else:
            value = _pick(rng, _DECOY_NUMBERS, k)
        head, tail = _PII_SENTENCES[lang][kind].split("{x}")
        text[rows] = text[rows] + head + value + tail

    return pd.DataFrame(
        {
            "ticket_id": _ids("T", n, 6),
            "customer_id": _ids("C", n_cust, 5)[who],
            "channel": np.asarray(_TICKET_CHANNELS, dtype=object)[channel],
            "category": np.asarray(_TICKET_CATEGORIES[lang], dtype=object)[category],
            "created_at": _fmt_seconds(created),
            "first_response_at": _fmt_seconds(first),
            "resolved_at": _fmt_seconds(resolved),
            "csat": _int_col(csat, csat_missing),
            "text": text,
        }
    )


def _employees(rng: np.random.Generator, n: int, lang: str) -> pd.DataFrame:
    dept = rng.permutation(np.repeat(np.arange(len(_DEPARTMENTS)), _fixed_counts(n, _DEPARTMENT_SHARES)))
    engagement = np.asarray(_DEPARTMENT_ENGAGEMENT)[dept] + 0.8 * rng.standard_normal(n)
    enps = _rint(7.5 + 1.3 * engagement + 1.0 * rng.standard_normal(n), 0, 10)
    logistics = (dept == _DEPARTMENTS.index("Logistics"))[:, None]
    mot = _rint(
        3.6
        + _MOTIVATION_OFFSET[None, :]
        + logistics * _LOGISTICS_EXTRA[None, :]
        + 0.5 * engagement[:, None]
        + 0.7 * rng.standard_normal((n, len(_MOTIVATION_ITEMS))),
        1,
        5,
    )
    df = pd.DataFrame(
        {
            "employee_id": _ids("E", n, 4),
            "department": np.asarray(_DEPARTMENT_NAMES[lang], dtype=object)[dept],
            "role": np.asarray(_ROLES[lang], dtype=object)[rng.choice(len(_ROLE_SHARES), n, p=_ROLE_SHARES)],
            "tenure_months": np.minimum(rng.geometric(1 / 36, n), 360),
            "enps": enps,
        }
    )
    for j, item in enumerate(_MOTIVATION_ITEMS):
        df[item] = mot[:, j]
    return df


def _kpis(lang: str) -> pd.DataFrame:
    i = _LANG_INDEX[lang]
    return pd.DataFrame(
        {
            "department": [_department(k[0], lang) for k in _KPIS],
            "kpi": [k[3][i] for k in _KPIS],
            "weight": [k[1] for k in _KPIS],
            "is_customer_metric": ["true" if k[2] else "false" for k in _KPIS],
        }
    )


def _touchpoints(lang: str) -> pd.DataFrame:
    i = _LANG_INDEX[lang]
    return pd.DataFrame(
        [(t[0], t[1], t[2], _department(t[3], lang), t[7][i]) for t in _TOUCHPOINTS],
        columns=["touchpoint", "stage", "channel", "owner_department", "label"],
    )


_SEGMENT_LABELS = {
    "en": ("Customer segment", "Region", "Contact channel"),
    "ru": ("Сегмент клиентов", "Регион", "Канал контакта"),
    "pl": ("Segment klientów", "Region", "Kanał kontaktu"),
}


#: Demo amounts in the client's currency (issue 14): the revenue is drawn in US dollars and put into
#: roubles and zlotys at round rates, so a Russian or Polish demo shows amounts that fit its currency.
CURRENCY: Final[dict[str, tuple[str, float]]] = {"en": ("USD", 1.0), "ru": ("RUB", 90.0), "pl": ("PLN", 4.0)}
#: Illustrative cost of one TO-BE change per effort level for the default size (4,000 customers), in US
#: dollars; the demo's audit.yaml states them in its currency, scaled with the number of customers.
DEMO_COSTS_USD: Final[dict[str, float]] = {"low": 8_000.0, "medium": 30_000.0, "high": 100_000.0}


def _in_currency(usd: pd.Series, lang: str) -> pd.Series:
    rate = CURRENCY[lang][1]
    return usd if rate == 1.0 else (usd * rate).round(0 if rate >= 10 else 2)


def _demo_costs(lang: str, size: str) -> dict[str, int]:
    scale = SIZES[size]["customers"] / SIZES["default"]["customers"] * CURRENCY[lang][1]
    return {k: int(round(v * scale, -2)) for k, v in DEMO_COSTS_USD.items()}


def _audit_yaml(lang: str, size: str, seed: int) -> str:
    def q(s: str) -> str:
        return json.dumps(s, ensure_ascii=False)

    resp_cols = {
        "response_id": "Response ID",
        "customer_id": "Customer ID",
        "date": "Submitted",
        "nps": "Q1 Recommend (0-10)",
        "csat": "Q2 Satisfaction (1-5)",
        "ces": "Q3 Ease (1-7)",
        "comment": "Comment",
        "duration_s": "Duration (s)",
    }
    lines = [
        f"# Generated by `cxaudit demo` (seed {seed}, size {size}, language {lang}). Synthetic data with planted",
        "# effects (see the docstring of cxaudit.demo); regenerating overwrites this file.",
        "client:",
        f"  name: {q(_CLIENT_NAMES[lang])}",
        f"  language: {lang}",
        "  industry: retail",
        f"  currency: {q(CURRENCY[lang][0])}",
        "# bases below this are shown but flagged",
        "min_base: 30",
        "# response columns to cut every metric by",
        "segments: [segment, region, channel]",
        "# how those columns are named in the report",
        f"segment_labels: {{segment: {q(_SEGMENT_LABELS[lang][0])}, region: {q(_SEGMENT_LABELS[lang][1])}, "
        f"channel: {q(_SEGMENT_LABELS[lang][2])}}}",
        "quality:",
        "  # rows failing these checks are excluded and counted with their reason",
        "  exclude: [missing_required, invalid_date, out_of_range, duplicate_id, speeder]",
        "# the period the customer list covers: churn per period, lifetime value and revenue at risk use it",
        f"churn: {{start: {_START}, as_of: {_END}}}",
        "# cost of one TO-BE change by effort level, in the client's currency (illustrative figures for the demo)",
        "economics:",
        "  costs: {" + ", ".join(f"{k}: {v}" for k, v in _demo_costs(lang, size).items()) + "}",
        "inputs:",
        "  responses:",
        f"    file: responses.{_ext(size, 'responses')}",
        "    # canonical name: column in the file",
        "    columns:",
        *[f"      {k}: {q(v)}" for k, v in resp_cols.items()],
    ]
    for table in ("touchpoints", "customers", "tickets", "employees", "kpis"):
        lines += [f"  {table}:", f"    file: {table}.{_ext(size, table)}"]
    lines += ["  # steps of the service cases (one case per ticket; cxaudit.process)", "  events:",
              f"    file: events.{_ext(size, 'events')}"]
    lines += [
        "# personas: a latent class model over the attitude items, segment and channel (cxaudit.personas)",
        "personas:",
        "  items:",
        *[f"    {c}: {q(lb)}" for c, lb in zip(_ATTITUDES, _ATTITUDE_LABELS[lang], strict=True)],
        "  use: [items, segments]",
        "  segments: [segment, channel]",
    ]
    return "\n".join(lines) + "\n"


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(path, index=False, lineterminator="\n", float_format="%.2f", encoding="utf-8")


def _ext(size: str, table: str) -> str:
    return "parquet" if size in PARQUET_SIZES and table in _PARQUET_TABLES else "csv"


def _write_table(df: pd.DataFrame, out: Path, table: str, size: str,
                 parts: Iterator[pd.DataFrame] | None = None) -> None:
    """``out/<table>.csv``, or at a Parquet size a Parquet file of the same cells as text.

    For Parquet each slice of rows (or each frame of ``parts``) goes through the CSV writer into
    memory, pyarrow's CSV reader turns every column into strings (empty cell = null, as the CSV
    reader of :mod:`cxaudit.io` reads it) and the slice is appended to the Parquet file (zstd) as a
    row group: both files give the checks the same cells, and only one slice is held as text.
    """
    if _ext(size, table) == "csv":
        _write_csv(df, out / f"{table}.csv")
        return
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    step = 500_000
    if parts is None:
        parts = (df.iloc[start : start + step] for start in range(0, max(len(df), 1), step))
    writer: Any = None
    try:
        for part in parts:
            names = [str(c) for c in part.columns]
            text = part.to_csv(index=False, header=False, lineterminator="\n", float_format="%.2f").encode("utf-8")
            chunk = pacsv.read_csv(
                pa.py_buffer(text),
                read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 24),
                parse_options=pacsv.ParseOptions(newlines_in_values=True),
                convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in names},
                                                     strings_can_be_null=True, quoted_strings_can_be_null=True,
                                                     null_values=[""]),
            )
            if writer is None:
                writer = pq.ParquetWriter(out / f"{table}.parquet", chunk.schema, compression="zstd")
            writer.write_table(chunk)
    finally:
        if writer is not None:
            writer.close()


# --- personas (issue 16) -----------------------------------------------------------------------------
# Four planted personas. A persona is a hidden driver: each response's persona is drawn from its own
# generator (seeded from the demo seed, separate from every other stream, so no existing column
# changes), with odds that depend on the response's channel, segment and NPS group (its existing
# answers), and it drives four new attitude columns (1-5 agreement). The labels are not in any file; PLANTED["personas"] documents them.

_PERSONA_KEYS: Final[tuple[str, ...]] = ("digital", "bargain", "business", "store")
_PERSONA_PRIOR: Final[tuple[float, ...]] = (0.35, 0.25, 0.20, 0.20)
# odds multipliers by response channel (site, app, phone, chat, email, store) and segment
# (consumer, small business, corporate)
_PERSONA_CHANNEL: Final = np.array([
    [1.5, 3.0, 0.1, 2.0, 0.5, 0.1],
    [1.5, 1.0, 0.2, 0.7, 3.0, 0.6],
    [0.1, 0.1, 30.0, 0.2, 0.2, 0.1],
    [0.4, 0.3, 0.3, 0.3, 0.5, 5.0],
])
_PERSONA_SEGMENT: Final = np.array([
    [1.2, 0.8, 0.5],
    [1.4, 0.6, 0.3],
    [0.3, 2.5, 3.0],
    [1.3, 0.7, 0.3],
])
# odds multipliers by the response's NPS group (promoter 9-10, passive 7-8, detractor 0-6, no valid answer)
# (the response's existing score: the persona follows the answer, the answer is not changed). The
# phone-first advice seekers are detractors more often: their NPS is about 20 points below the rest.
_PERSONA_NPS: Final = np.array([
    [1.2, 1.0, 0.7, 1.0],
    [0.85, 1.0, 1.2, 1.0],
    [0.5, 1.0, 2.2, 1.0],
    [1.3, 1.0, 0.6, 1.0],
])
_ATTITUDES: Final[tuple[str, ...]] = ("att_price", "att_self_service", "att_advice", "att_store")
_ATTITUDE_LABELS: Final[dict[str, tuple[str, ...]]] = {
    "en": ("Price matters most to me", "I prefer to do things myself online", "Personal advice matters to me",
           "I like to shop in a store"),
    "ru": ("Для меня главное — цена", "Предпочитаю всё делать сам онлайн", "Мне важна личная консультация",
           "Люблю покупать в магазине"),
    "pl": ("Najważniejsza jest dla mnie cena", "Wolę załatwiać sprawy sam online", "Ważna jest dla mnie osobista porada",
           "Lubię kupować w sklepie"),
}
# mean agreement (1-5) per persona and attitude; noise SD below, rounded and clipped to 1-5
_ATTITUDE_MEANS: Final = np.array([
    [2.6, 4.6, 1.8, 1.7],
    [4.7, 3.3, 2.3, 2.9],
    [2.2, 2.3, 4.6, 1.9],
    [3.1, 1.6, 2.6, 4.7],
])
_ATTITUDE_NOISE: Final[float] = 0.75
_ATTITUDE_MISSING: Final[float] = 0.03  # item non-response

PLANTED["personas"] = {
    "keys": list(_PERSONA_KEYS),
    "prior": dict(zip(_PERSONA_KEYS, _PERSONA_PRIOR, strict=True)),
    "columns": list(_ATTITUDES),
    "labels": {lang: dict(zip(_ATTITUDES, v, strict=True)) for lang, v in _ATTITUDE_LABELS.items()},
    "attitude_means": {k: dict(zip(_ATTITUDES, map(float, row), strict=True))
                       for k, row in zip(_PERSONA_KEYS, _ATTITUDE_MEANS, strict=True)},
    "attitude_noise": _ATTITUDE_NOISE,
    "missing_share": _ATTITUDE_MISSING,
    "channel_odds": {k: dict(zip(_RESPONSE_CHANNELS, map(float, row), strict=True))
                     for k, row in zip(_PERSONA_KEYS, _PERSONA_CHANNEL, strict=True)},
    "segment_odds": {k: dict(zip(_SEGMENT_KEYS, map(float, row), strict=True))
                     for k, row in zip(_PERSONA_KEYS, _PERSONA_SEGMENT, strict=True)},
    # odds by the NPS group of the response's existing 0-10 answer ("none": missing or out of range)
    "nps_odds": {k: dict(zip(("promoter", "passive", "detractor", "none"), map(float, row), strict=True))
                 for k, row in zip(_PERSONA_KEYS, _PERSONA_NPS, strict=True)},
    "traits": {
        "digital": "self-service online (app, site, chat), consumers; low need for advice or stores; "
                   "more promoters",
        "bargain": "price first; email offers and the site; consumers; slightly more detractors",
        "business": "advice seekers who call: about 80 % answered by phone, small-business and corporate "
                    "buyers over-represented; want personal advice; twice the detractor odds, so NPS about "
                    "15-20 points below the rest and phone (not e-mail) their lead channel at retention",
        "store": "shop in stores; least self-service; more promoters",
    },
    # what the personas section finds on the default demo (seed 7): tests/test_personas.py
    "expected": {"lowest_nps": "business", "lead_channel": {"business": {"retention": "phone"}}},
    "seed": "numpy.random.default_rng([16, seed]): a generator of its own",
    "min_ari": 0.8,
}


def _persona_rng(seed: int) -> np.random.Generator:
    return np.random.default_rng([16, seed])


def persona_labels(responses: pd.DataFrame, seed: int) -> np.ndarray:
    """The planted persona (index into ``PLANTED["personas"]["keys"]``) of each row of ``responses.csv``.

    Drawn per unique ``Response ID`` (the re-appended duplicates get their original's persona) from
    :func:`_persona_rng`, with odds prior × channel odds × segment odds × NPS-group odds, all read from
    the response's existing columns (``channel``, ``segment``, ``Q1 Recommend (0-10)``), which stay as
    they are: the persona is correlated with the data already drawn instead of changing it.
    """
    rng = _persona_rng(seed)
    first = ~responses["Response ID"].duplicated(keep="first").to_numpy()
    uniq = responses[first]
    ch = pd.Index(_RESPONSE_CHANNELS).get_indexer(uniq["channel"].astype(str))
    seg_names = {name: i for names in _SEGMENTS.values() for i, name in enumerate(names)}
    sg = uniq["segment"].map(seg_names).to_numpy(dtype=np.int64)
    score = pd.to_numeric(uniq["Q1 Recommend (0-10)"], errors="coerce").to_numpy(dtype=float)
    ng = np.where(score >= 9, 0, np.where(score >= 7, 1, 2))
    ng[~((score >= 0) & (score <= 10))] = 3  # missing or out of range: no NPS group
    odds = (np.asarray(_PERSONA_PRIOR)[None, :] * _PERSONA_CHANNEL[:, ch].T * _PERSONA_SEGMENT[:, sg].T
            * _PERSONA_NPS[:, ng].T)
    p = odds / odds.sum(axis=1, keepdims=True)
    u = rng.random(len(uniq))
    label_u = np.minimum((p.cumsum(axis=1) < u[:, None]).sum(axis=1), len(_PERSONA_KEYS) - 1)
    by_id = pd.Series(label_u, index=uniq["Response ID"].to_numpy())
    return by_id.reindex(responses["Response ID"].to_numpy()).to_numpy(dtype=np.int64)


def _attitudes(responses: pd.DataFrame, seed: int) -> pd.DataFrame:
    """``responses`` with the four attitude columns added (existing columns untouched)."""
    label = persona_labels(responses, seed)
    rng = _persona_rng(seed).spawn(1)[0]
    first = ~responses["Response ID"].duplicated(keep="first").to_numpy()
    lu = label[first]
    k = len(_ATTITUDES)
    vals = _rint(_ATTITUDE_MEANS[lu] + _ATTITUDE_NOISE * rng.standard_normal((len(lu), k)), 1, 5)
    missing = rng.random((len(lu), k)) < _ATTITUDE_MISSING
    ids = responses["Response ID"].to_numpy()
    out = responses.copy()
    for j, col in enumerate(_ATTITUDES):
        s = pd.Series(_int_col(vals[:, j], missing[:, j]).to_numpy(), index=ids[first])
        out[col] = pd.Series(s.reindex(ids).to_numpy(), dtype="Int64")
    return out


def generate_demo(out_dir: str | Path, *, size: str = "default", lang: str = "en", seed: int = 7,
                  _wave: dict[str, Any] | None = None) -> Path:
    """Write the demo client's six tables and ``audit.yaml`` into ``out_dir``.

    Parameters
    ----------
    out_dir
        Target folder; created if missing. Existing files of the same names are overwritten.
    size
        ``"small"``, ``"default"``, ``"large"`` or ``"xl"`` (see :data:`SIZES`; ``xl`` writes its four
        large tables as Parquet, :data:`PARQUET_SIZES`).
    lang
        Client language: ``"en"``, ``"ru"`` or ``"pl"``.
    seed
        Seed of ``numpy.random.default_rng``; the same ``(size, lang, seed)`` gives byte-identical
        files.
    _wave
        Planted changes of a later wave (:func:`generate_waves`); None for the demo itself.

    Returns
    -------
    Path
        ``out_dir``.

    Raises
    ------
    ValueError
        For an unknown size or language.
    """
    if size not in SIZES:
        raise ValueError(f"unknown demo size {size!r}; expected one of {', '.join(SIZES)}")
    if lang not in DEMO_LANGUAGES:
        raise ValueError(f"unknown demo language {lang!r}; expected one of {', '.join(DEMO_LANGUAGES)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    n = SIZES[size]
    r_cust, r_resp, r_life, r_tick, r_emp = np.random.default_rng(seed).spawn(5)

    cust = _customer_base(r_cust, n["customers"])
    responses, truth = _responses(r_resp, n["responses"], cust, lang, wave=_wave)
    responses = _attitudes(responses, seed)  # issue 16: persona-driven columns from their own generator
    customers, life = _customers(r_life, cust, truth, lang)
    customers["revenue"] = _in_currency(customers["revenue"], lang)  # issue 14: RUB / PLN amounts that fit
    tickets = _tickets(r_tick, n["tickets"], life, lang)
    employees = _employees(r_emp, n["employees"], lang)

    _write_table(responses, out, "responses", size)
    _write_csv(_touchpoints(lang), out / "touchpoints.csv")
    _write_table(customers, out, "customers", size)
    _write_table(tickets, out, "tickets", size)
    _write_csv(employees, out / "employees.csv")
    _write_csv(_kpis(lang), out / "kpis.csv")
    if _ext(size, "events") == "csv":
        _write_table(_events(tickets, responses, lang, seed), out, "events", size)  # issue 17: own generator
    else:  # the same rows, formatted and written 1M at a time
        ev = _event_arrays(tickets, responses, seed)
        del responses, customers
        _write_table(pd.DataFrame(), out, "events", size,
                     parts=(_event_frame(ev, tickets, lang, slice(i, i + 1_000_000))
                            for i in range(0, len(ev["case"]), 1_000_000)))
    (out / "audit.yaml").write_text(_audit_yaml(lang, size, seed), encoding="utf-8", newline="\n")
    return out


# --- demo waves (issue 18) ---------------------------------------------------------------------------

#: Planted changes of the later demo waves (:func:`generate_waves`), cumulative against the baseline.
#: ``tp_mean_shift`` moves a touchpoint's nominal mean rating; the latent loyalty is centred on that
#: mean, so the rating rises and NPS / CSAT / CES do not follow it within the waves (a rating is a
#: leading indicator; each planted change stays testable on its own). ``segment_shift`` lowers the
#: latent loyalty of one segment, which lowers its NPS, CSAT and CES, and through its 25 % share the
#: overall ones and those of every region and contact channel (those cells change as a consequence,
#: ``consequence`` below). Everything else is drawn from the same distributions with a new seed.
PLANTED["waves"] = {
    "names": ["wave1", "wave2", "wave3"],
    "baseline": "wave1",
    "seed_step": 1000,
    "months_between_waves": 24,
    "changes": {
        "wave2": {"tp_mean_shift": {"tp_delivery": 0.4}, "segment_shift": {"small_business": -0.7}},
        "wave3": {"tp_mean_shift": {"tp_delivery": 0.8}, "segment_shift": {"small_business": -1.4}},
    },
    # what a wave-over-wave test must find (sign of later - earlier) on every pair of waves
    "expected": {
        "tp_delivery:overall": "up",
        "nps:segment=small_business": "down",
        "csat:segment=small_business": "down",
        "ces:segment=small_business": "down",
    },
    # cells that move because the small-business segment is part of them: true changes, not required
    "consequence": ["overall", "region", "channel"],
    # cells whose true change is zero: consumer and corporate segments (all metrics), every touchpoint
    # rating but tp_delivery (in every cut)
    "null_segments": ["consumer", "corporate"],
    "not_asked": {"wave3": ["tp_review_request"]},
    # the status each baseline recommendation must get in the latest wave (cxaudit.track): a touchpoint-rating
    # recommendation by its touchpoint, others by measured metric (``<metric>:<theme>`` or
    # ``<metric>:<segment key>`` first; a persona's NPS is not in the wave data: not measured); metrics the
    # small-business decline moves may show it ("worse") or not, late-delivery complaints fall with the
    # delivery rating (its low raters complain about it); everything else stays "not_yet"
    "recommendation_status": {
        "by_touchpoint": {"tp_delivery": ["achieved"]},
        "by_metric": {"segment_nps:small_business": ["worse"], "segment_nps": ["not_yet", "not_measured"],
                      "nps": ["not_yet", "worse"], "csat": ["not_yet", "worse"],
                      "ces": ["not_yet", "worse"], "churn_rate": ["not_yet", "worse"],
                      "detractor_churn": ["not_yet", "worse"],
                      "theme_share:late_delivery": ["not_yet", "on_track", "achieved"],
                      "theme_share_low_raters:late_delivery": ["not_yet", "on_track", "achieved"],
                      "revenue_retained": ["not_measured"]},
        "otherwise": ["not_yet"],
    },
}


def _shift_dates(path: Path, columns: dict[str, str], months: int) -> None:
    """Move the dates of ``columns`` ({column: strftime format}) in a demo CSV by ``months``; cells that
    do not parse (planted bad dates, empty cells) stay as they are."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    for col, fmt in columns.items():
        if col not in df.columns:
            continue
        t = pd.to_datetime(df[col], format=fmt, errors="coerce")
        ok = t.notna()
        df.loc[ok, col] = (t[ok] + pd.DateOffset(months=months)).dt.strftime(fmt)
    df.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


_DATE_COLUMNS: Final[dict[str, dict[str, str]]] = {
    "responses.csv": {"Submitted": "%Y-%m-%d %H:%M"},
    "customers.csv": {"start_date": "%Y-%m-%d", "churn_date": "%Y-%m-%d"},
    "tickets.csv": {"created_at": "%Y-%m-%d %H:%M:%S", "first_response_at": "%Y-%m-%d %H:%M:%S",
                    "resolved_at": "%Y-%m-%d %H:%M:%S"},
    "events.csv": {"timestamp": "%Y-%m-%d %H:%M:%S"},
}


def generate_waves(out_dir: str | Path, *, waves: int = 3, size: str = "default", lang: str = "en",
                   seed: int = 7) -> Path:
    """The demo client with ``waves`` survey waves: ``out_dir/audit.yaml`` and the baseline files as
    :func:`generate_demo` writes them, plus ``out_dir/waves/wave<k>/`` with each wave's six tables.

    ``wave1`` is the baseline: byte-identical to :func:`generate_demo` with the same arguments.
    Wave k (k ≥ 2) is drawn with seed ``seed + 1000 (k - 1)``, its dates moved ``24 (k - 1)`` months
    later, and the planted changes of ``PLANTED["waves"]["changes"]`` (waves beyond 3 keep wave 3's);
    wave 3 no longer asks ``tp_review_request`` (a question dropped between waves: not comparable).

    Raises
    ------
    ValueError
        For fewer than 2 waves, an unknown size or language, or the ``xl`` size.
    """
    if waves < 2:
        raise ValueError(f"demo waves: expected at least 2 waves, got {waves}")
    if size in PARQUET_SIZES:
        raise ValueError(f"demo waves: size {size!r} is for the scale benchmark; expected one of "
                         f"{', '.join(k for k in SIZES if k not in PARQUET_SIZES)}")
    out = generate_demo(out_dir, size=size, lang=lang, seed=seed)
    spec = PLANTED["waves"]
    for k in range(1, waves + 1):
        name = f"wave{k}"
        folder = out / "waves" / name
        change = spec["changes"].get(name) or (spec["changes"]["wave3"] if k > 3 else None)
        generate_demo(folder, size=size, lang=lang, seed=seed + spec["seed_step"] * (k - 1), _wave=change)
        (folder / "audit.yaml").unlink()  # the client's audit.yaml is shared by its waves
        if k > 1:
            for file, cols in _DATE_COLUMNS.items():
                if (folder / file).is_file():
                    _shift_dates(folder / file, cols, spec["months_between_waves"] * (k - 1))
        dropped = spec["not_asked"].get(name) or (spec["not_asked"]["wave3"] if k > 3 else [])
        if dropped:
            df = pd.read_csv(folder / "responses.csv", dtype=str, keep_default_na=False)
            df.drop(columns=dropped).to_csv(folder / "responses.csv", index=False, lineterminator="\n",
                                            encoding="utf-8")
    return out


# --- the service event log (issue 17) ----------------------------------------------------------------
# One case per ticket, drawn from a generator of its own (numpy.random.default_rng([17, seed])) after
# every other table, so no existing file changes. A case opens at the ticket's created_at and gets its
# first response at the ticket's first_response_at; the later steps are simulated (the log's closing
# time is the simulated process's, not tickets.resolved_at). Planted, in Logistics: a bottleneck (the
# wait before "Logistics check" has a median of 30 h; every other step waits minutes to 2 h) and a
# rework loop (Logistics check -> Courier re-dispatch -> Logistics check again) in delivery cases, five
# times as likely for customers whose latest survey answer is a detractor's or whose ticket was rated
# 1-2, so the customers of looping cases are less satisfied.

_EVENT_ACTIVITIES: Final[dict[str, dict[str, str]]] = {
    "received": {"en": "Ticket received", "ru": "Обращение получено", "pl": "Zgłoszenie przyjęte"},
    "first_response": {"en": "First response", "ru": "Первый ответ", "pl": "Pierwsza odpowiedź"},
    "diagnosis": {"en": "Diagnosis", "ru": "Диагностика", "pl": "Diagnoza"},
    "logistics_check": {"en": "Logistics check", "ru": "Проверка логистики", "pl": "Weryfikacja logistyki"},
    "redispatch": {"en": "Courier re-dispatch", "ru": "Повторная отправка курьера", "pl": "Ponowna wysyłka kuriera"},
    "return_inspection": {"en": "Return inspection", "ru": "Проверка возврата", "pl": "Kontrola zwrotu"},
    "invoice_correction": {"en": "Invoice correction", "ru": "Исправление счёта", "pl": "Korekta faktury"},
    "solution": {"en": "Solution sent", "ru": "Решение отправлено", "pl": "Rozwiązanie wysłane"},
    "closed": {"en": "Ticket closed", "ru": "Обращение закрыто", "pl": "Zgłoszenie zamknięte"},
}
# (department, median wait in hours before the step, log-SD) of the simulated steps
_EVENT_STEPS: Final[dict[str, tuple[str, float, float]]] = {
    "diagnosis": ("Customer Service", 1.0, 0.6),
    "logistics_check": ("Logistics", 30.0, 0.5),
    "redispatch": ("Logistics", 1.0, 0.6),
    "return_inspection": ("Logistics", 2.0, 0.6),
    "invoice_correction": ("Billing", 2.0, 0.6),
    "solution": ("Customer Service", 1.5, 0.6),
    "closed": ("Customer Service", 0.5, 0.6),
}
_LOOP_P: Final[tuple[float, float]] = (0.08, 0.40)  # delivery cases: other customers, unhappy customers

PLANTED["processes"] = {
    "seed": "numpy.random.default_rng([17, seed]): a generator of its own",
    "activities": {k: dict(v) for k, v in _EVENT_ACTIVITIES.items()},
    "steps": {k: {"department": d, "median_wait_h": m, "log_sd": s} for k, (d, m, s) in _EVENT_STEPS.items()},
    "bottleneck": {"activity": "logistics_check", "department": "Logistics", "median_wait_h": 30.0},
    "loop": {"activity": "logistics_check", "via": "redispatch", "department": "Logistics", "category": "delivery",
             "p_other": _LOOP_P[0], "p_unhappy": _LOOP_P[1],
             "unhappy": "latest survey NPS 0-6 or the ticket rated 1-2"},
    "routes": {"delivery": "logistics_check", "returns": "return_inspection", "billing": "invoice_correction"},
    "no_other_loop": True,
    "no_other_bottleneck": True,
    "closing_time": "simulated; not tickets.resolved_at",
}


def _latest_nps(responses: pd.DataFrame) -> pd.Series:
    """Each customer's NPS of their most recent readable answer (raw demo columns), by customer id."""
    nps = pd.to_numeric(responses["Q1 Recommend (0-10)"], errors="coerce")
    when = pd.to_datetime(responses["Submitted"], format="%Y-%m-%d %H:%M", errors="coerce")
    ok = nps.between(0, 10) & when.notna() & responses["Customer ID"].notna()
    d = pd.DataFrame({"c": responses["Customer ID"][ok], "t": when[ok], "n": nps[ok]}).sort_values("t", kind="stable")
    return d.drop_duplicates("c", keep="last").set_index("c")["n"]


def _events(tickets: pd.DataFrame, responses: pd.DataFrame, lang: str, seed: int) -> pd.DataFrame:
    """The event log (one row per step, time order within a case; see PLANTED["processes"])."""
    return _event_frame(_event_arrays(tickets, responses, seed), tickets, lang, slice(None))


def _event_arrays(tickets: pd.DataFrame, responses: pd.DataFrame, seed: int) -> dict[str, np.ndarray]:
    """The event log's draws and order as plain arrays (case index, step key, time, department, agent)."""
    rng = np.random.default_rng([17, seed])
    n = len(tickets)
    created = pd.to_datetime(tickets["created_at"], format="%Y-%m-%d %H:%M:%S").to_numpy("datetime64[s]")
    first = pd.to_datetime(tickets["first_response_at"], format="%Y-%m-%d %H:%M:%S", errors="coerce").to_numpy(
        "datetime64[s]")
    resolved = tickets["resolved_at"].astype(str).str.len().to_numpy() > 4
    cat_names = {name: key for names in _TICKET_CATEGORIES.values() for key, name in zip(_TICKET_CATEGORY_KEYS, names,
                                                                                          strict=True)}
    cat = tickets["category"].map(cat_names).to_numpy()
    nps = tickets["customer_id"].map(_latest_nps(responses)).to_numpy(dtype=float)
    csat = pd.to_numeric(tickets["csat"], errors="coerce").to_numpy(dtype=float)
    unhappy = (nps <= 6) | (csat <= 2)
    loop = (cat == "delivery") & (rng.random(n) < np.where(unhappy, _LOOP_P[1], _LOOP_P[0]))

    def wait(step: str) -> np.ndarray:
        _, med, sd = _EVENT_STEPS[step]
        return np.rint(3600.0 * med * np.exp(sd * rng.standard_normal(n))).astype(np.int64).astype("timedelta64[s]")

    waits = {k: wait(k) for k in ("diagnosis", "logistics_check", "redispatch", "return_inspection",
                                  "invoice_correction", "solution", "closed")}
    second_check = wait("logistics_check")
    agent = rng.integers(1, 41, n)
    back_agent = rng.integers(41, 61, n)
    rows: dict[str, list[Any]] = {k: [] for k in ("case", "step", "time", "dept", "agent")}

    def add(mask: np.ndarray, step: str, time: np.ndarray, dept: str, who: np.ndarray) -> None:
        idx = np.flatnonzero(mask)
        rows["case"].append(idx)
        rows["step"].append(np.full(len(idx), step, dtype=object))
        rows["time"].append(time[idx])
        rows["dept"].append(np.full(len(idx), dept, dtype=object))
        rows["agent"].append(who[idx])

    answered = ~np.isnat(first)
    add(np.ones(n, bool), "received", created, "Customer Service", agent)
    add(answered, "first_response", first, "Customer Service", agent)
    t_ = first + waits["diagnosis"]
    add(answered, "diagnosis", t_, "Customer Service", agent)
    route = {"delivery": "logistics_check", "returns": "return_inspection", "billing": "invoice_correction"}
    for c, route_step in route.items():
        m = answered & (cat == c)
        t_step = t_ + waits[route_step]
        add(m, route_step, t_step, _EVENT_STEPS[route_step][0], back_agent)
        t_ = np.where(m, t_step, t_)
    lm = answered & loop
    t_re = t_ + waits["redispatch"]
    add(lm, "redispatch", t_re, "Logistics", back_agent)
    t_chk = t_re + second_check
    add(lm, "logistics_check", t_chk, "Logistics", back_agent)
    t_ = np.where(lm, t_chk, t_)
    t_ = t_ + waits["solution"]
    add(answered, "solution", t_, "Customer Service", agent)
    add(answered & resolved, "closed", t_ + waits["closed"], "Customer Service", agent)

    case = np.concatenate(rows["case"])
    time = np.concatenate(rows["time"])
    order = np.lexsort((time, case))
    return {"case": case[order], "step": np.concatenate(rows["step"])[order], "time": time[order],
            "dept": np.concatenate(rows["dept"])[order], "agent": np.concatenate(rows["agent"])[order]}


def _event_frame(a: Mapping[str, np.ndarray], tickets: pd.DataFrame, lang: str, rows: slice) -> pd.DataFrame:
    """The event log's rows ``rows`` as text columns (a slice, so the XL log is written in parts)."""
    case, who = a["case"][rows], a["agent"][rows]
    activity = {k: v[lang] for k, v in _EVENT_ACTIVITIES.items()}
    dept = {d: _department(d, lang) for d in _DEPARTMENTS}
    return pd.DataFrame({
        "case_id": np.char.add("CASE-", np.char.zfill((case + 1).astype(str), 6)).astype(object),
        "activity": pd.Series(a["step"][rows]).map(activity).to_numpy(dtype=object),
        "timestamp": _fmt_seconds(a["time"][rows]),
        "resource": np.char.add("A", np.char.zfill(who.astype(str), 3)).astype(object),
        "department": pd.Series(a["dept"][rows]).map(dept).to_numpy(dtype=object),
        "channel": tickets["channel"].to_numpy()[case],
        "customer_id": tickets["customer_id"].to_numpy()[case],
        "ticket_id": tickets["ticket_id"].to_numpy()[case],
    })
