"""The five data shapes of issue 13, as small seeded synthetic clients (``python make_shapes.py`` rewrites them).

Each folder is a client: ``audit.yaml`` plus the files a consultant would be handed. The shapes follow
the public descriptions of such datasets (column names, codes and value ranges), not their rows:

- ``telecom``: a customer base without a survey, after the IBM "Telco Customer Churn" sample
  (customerID, gender, SeniorCitizen 0/1, Partner, Dependents, tenure in months, InternetService,
  Contract, PaymentMethod, MonthlyCharges, TotalCharges, Churn Yes/No; churn = left within the last
  month). Planted: churn is higher for month-to-month contracts, fibre optic and electronic checks,
  and falls with tenure (a logistic model, below).
- ``airline``: a passenger survey after the "Airline Passenger Satisfaction" sample (id, Gender,
  Customer Type, Age, Type of Travel, Class, Flight Distance, 14 service ratings on 1-5 where 0 means
  "not applicable", satisfaction = "satisfied" / "neutral or dissatisfied"); no NPS, no dates.
  Planted: online boarding, wifi and seat comfort drive satisfaction; a few ratings of 6 (off scale).
- ``reviews_pl``: Polish user reviews of films and series, a 0-10 rating where 0 means "no rating",
  a date as DD.MM.YYYY and the review text.
- ``tweets_ru``: Russian tweets about telecom operators with Unix-timestamp dates (seconds), links and
  @handles, no scores.
- ``tickets``: a support-ticket export with first-response and resolution times in hours, a channel,
  a category and a subject, but no creation time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
SEED = 20261204


def telecom(rng: np.random.Generator, n: int = 600) -> tuple[pd.DataFrame, str]:
    contract = rng.choice(["Month-to-month", "One year", "Two year"], n, p=[0.55, 0.21, 0.24])
    internet = rng.choice(["DSL", "Fiber optic", "No"], n, p=[0.34, 0.44, 0.22])
    payment = rng.choice(["Electronic check", "Mailed check", "Bank transfer (automatic)",
                          "Credit card (automatic)"], n, p=[0.34, 0.23, 0.22, 0.21])
    senior = rng.choice([0, 1], n, p=[0.84, 0.16])
    tenure = rng.integers(0, 73, n)
    charges = np.round(np.where(internet == "No", rng.uniform(18, 26, n),
                                np.where(internet == "DSL", rng.uniform(25, 80, n), rng.uniform(68, 118, n))), 2)
    lin = (-1.2 + 1.1 * (contract == "Month-to-month") - 0.9 * (contract == "Two year")
           + 0.7 * (internet == "Fiber optic") - 0.8 * (internet == "No") + 0.6 * (payment == "Electronic check")
           + 0.3 * senior - 0.03 * tenure)
    churn = rng.random(n) < 1 / (1 + np.exp(-lin))
    total = np.round(charges * np.maximum(tenure, 1), 2).astype(object)
    total[tenure == 0] = " "  # as in the public sample: new customers have a blank TotalCharges
    df = pd.DataFrame({
        "customerID": [f"{rng.integers(1000, 9999)}-{''.join(rng.choice(list('ABCDEFGHIJKLMNOPQRSTUVWXYZ'), 5))}"
                       for _ in range(n)],
        "gender": rng.choice(["Female", "Male"], n), "SeniorCitizen": senior,
        "Partner": rng.choice(["Yes", "No"], n), "Dependents": rng.choice(["Yes", "No"], n, p=[0.3, 0.7]),
        "tenure": tenure, "PhoneService": rng.choice(["Yes", "No"], n, p=[0.9, 0.1]),
        "InternetService": internet, "Contract": contract, "PaymentMethod": payment,
        "MonthlyCharges": charges, "TotalCharges": total, "Churn": np.where(churn, "Yes", "No"),
    })
    df["customerID"] = [f"{i:04d}-{c[5:]}" for i, c in enumerate(df["customerID"], 1)]  # unique
    yaml = """client: {name: "Telco sample", language: en, industry: telecom, currency: USD}
segments: [Contract, InternetService, PaymentMethod, SeniorCitizen, tenure_band]
segment_labels: {Contract: Contract, InternetService: Internet service, PaymentMethod: Payment method,
                 SeniorCitizen: Senior citizen, tenure_band: Tenure}
value_labels: {SeniorCitizen: {0: "No", 1: "Yes"}}
bands:
  tenure_band: {source: tenure_months, edges: [0, 12, 24, 48, 73], labels: ["0-11 months", "12-23 months", "24-47 months", "48-72 months"]}
reference: {Contract: Two year}
churn:
  observation_months: 1      # Churn = customers who left within the last month
  covariates: [revenue]
economics: {revenue_period_months: 1}
inputs:
  customers:
    file: customers.csv
    columns: {customer_id: customerID, churned: Churn, tenure_months: tenure, revenue: MonthlyCharges}
"""
    return df, yaml


AIRLINE_ITEMS = {
    "wifi": "Inflight wifi service", "time": "Departure/Arrival time convenient", "booking": "Ease of Online booking",
    "gate": "Gate location", "food": "Food and drink", "boarding": "Online boarding", "seat": "Seat comfort",
    "entertainment": "Inflight entertainment", "onboard": "On-board service", "legroom": "Leg room service",
    "baggage": "Baggage handling", "checkin": "Checkin service", "inflight": "Inflight service",
    "cleanliness": "Cleanliness",
}
AIRLINE_STAGES = {"wifi": ("post-purchase", "inflight"), "time": ("purchase", "web"), "booking": ("purchase", "web"),
                  "gate": ("post-purchase", "airport"), "food": ("post-purchase", "inflight"),
                  "boarding": ("purchase", "web"), "seat": ("post-purchase", "inflight"),
                  "entertainment": ("post-purchase", "inflight"), "onboard": ("post-purchase", "inflight"),
                  "legroom": ("post-purchase", "inflight"), "baggage": ("post-purchase", "airport"),
                  "checkin": ("post-purchase", "airport"), "inflight": ("post-purchase", "inflight"),
                  "cleanliness": ("post-purchase", "inflight")}


def airline(rng: np.random.Generator, n: int = 400) -> tuple[pd.DataFrame, str]:
    cls = rng.choice(["Business", "Eco", "Eco Plus"], n, p=[0.48, 0.45, 0.07])
    travel = rng.choice(["Business travel", "Personal Travel"], n, p=[0.69, 0.31])
    ctype = rng.choice(["Loyal Customer", "disloyal Customer"], n, p=[0.82, 0.18])
    base = rng.normal(0, 1, n) + 0.6 * (cls == "Business")
    ratings = {}
    for k in AIRLINE_ITEMS:
        r = np.clip(np.round(3.1 + 0.9 * base + rng.normal(0, 1.0, n)), 1, 5)
        ratings[k] = r
    lin = (-0.5 + 1.3 * (ratings["boarding"] - 3) + 0.8 * (ratings["wifi"] - 3) + 0.6 * (ratings["seat"] - 3)
           + 0.8 * (travel == "Business travel") - 0.5)
    satisfied = rng.random(n) < 1 / (1 + np.exp(-lin))
    df = pd.DataFrame({"id": rng.permutation(np.arange(10_000, 10_000 + n)), "Gender": rng.choice(["Female", "Male"], n),
                       "Customer Type": ctype, "Age": rng.integers(7, 86, n), "Type of Travel": travel, "Class": cls,
                       "Flight Distance": rng.integers(31, 4984, n)})
    for k, name in AIRLINE_ITEMS.items():
        col = ratings[k].astype(int)
        na = rng.random(n) < (0.08 if k in ("wifi", "booking", "time") else 0.01)
        col[na] = 0  # 0 = not applicable
        df[name] = col
    df.loc[rng.choice(n, 6, replace=False), "Seat comfort"] = 6  # off the 1-5 scale
    df["satisfaction"] = np.where(satisfied, "satisfied", "neutral or dissatisfied")
    tps = "\n".join(f"  {k}: {{stage: {s}, channel: {c}, label: \"{AIRLINE_ITEMS[k]}\"}}"
                    for k, (s, c) in AIRLINE_STAGES.items())
    cols = "\n".join(f"      tp_{k}: \"{name}\"" for k, name in AIRLINE_ITEMS.items())
    yaml = f"""client: {{name: "Airline sample", language: en, industry: travel}}
segments: [Class, Type of Travel, Customer Type]
fieldwork: {{start: 2025-03-01, end: 2025-03-31}}
outcome: {{column: satisfaction, positive: [satisfied], label: "Satisfied passengers"}}
categories: {{Class: [Eco, Eco Plus, Business]}}
scales:
  touchpoint: {{min: 1, max: 5, top_box: 2, na_codes: [0]}}
touchpoints:
{tps}
inputs:
  responses:
    file: airline.csv
    columns:
      response_id: id
{cols}
"""
    return df, yaml


PL_GOOD = ["Świetny film, polecam każdemu.", "Rewelacyjna gra aktorska i piękne zdjęcia.",
           "Zwroty akcji trzymają w napięciu do końca.", "Miły, ciepły serial na wieczór.",
           "Najlepszy sezon, scenariusz bez zarzutu.", "Muzyka i klimat po prostu genialne."]
PL_BAD = ["Nudny i za długi, szkoda czasu.", "Słaba fabuła, aktorzy grają drewniano.",
          "Zakończenie rozczarowuje, bez sensu.", "Dubbing okropny, napisy się nie zgadzają.",
          "Za dużo reklam w serwisie, obraz się zacina.", "Przewidywalny scenariusz, nic nowego."]


def reviews_pl(rng: np.random.Generator, n: int = 300) -> tuple[pd.DataFrame, str]:
    rating = rng.integers(1, 11, n)
    rating[rng.random(n) < 0.15] = 0  # 0 = no rating
    text = [rng.choice(PL_GOOD if (r >= 7 or (r == 0 and rng.random() < 0.5)) else PL_BAD) for r in rating]
    days = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    df = pd.DataFrame({"ocena": rating, "data": days.strftime("%d.%m.%Y"), "recenzja": text})
    yaml = """client: {name: "Serwis filmowy", language: pl, industry: media}
scales:
  nps: {min: 0, max: 10, na_codes: [0]}
inputs:
  responses:
    file: recenzje.csv
    columns: {date: data, nps: ocena, comment: recenzja}
"""
    return df, yaml


RU_TEXT = ["@mts_support опять нет связи второй день", "Мегафон снова списал деньги за подписку, которую я не подключал",
           "Интернет от Билайна летает, спасибо! https://t.co/abc123", "@beeline почему так медленно грузится?",
           "Тариф подорожал без предупреждения, ухожу к другому оператору", "Оператор в чате помог быстро, приятно",
           "Нет покрытия за городом, звонки обрываются", "Поддержка Теле2 вежливая, вопрос решили за 5 минут",
           "Роуминг стоит безумных денег #мтс", "Мобильное приложение постоянно вылетает http://example.com/x"]


def tweets_ru(rng: np.random.Generator, n: int = 300) -> tuple[pd.DataFrame, str]:
    ts = 1_672_531_200 + rng.integers(0, 180 * 86400, n)  # 2023-01-01 .. 2023-06-30, seconds
    df = pd.DataFrame({"id": np.arange(1, n + 1) + 400_000_000, "date": ts, "text": rng.choice(RU_TEXT, n),
                       "user": [f"user{i}" for i in rng.integers(1, 5000, n)]})
    yaml = """client: {name: "Телеком-мониторинг", language: ru, industry: telecom}
inputs:
  responses:
    file: tweets.csv
    columns: {response_id: id, date: date, comment: text}
"""
    return df, yaml


TICKET_SUBJECTS = ["Cannot log in to my account", "Refund not received", "Product arrived damaged",
                   "Billing charged twice", "How do I change my plan?", "App crashes on start",
                   "Delivery is late", "Password reset link does not work"]


def tickets(rng: np.random.Generator, n: int = 400) -> tuple[pd.DataFrame, str]:
    channel = rng.choice(["Email", "Phone", "Chat", "Social media"], n, p=[0.4, 0.25, 0.25, 0.1])
    scale = np.select([channel == "Email", channel == "Phone", channel == "Chat"], [20.0, 2.0, 1.0], 10.0)
    first = np.round(rng.gamma(1.5, scale / 1.5), 1)
    resolved = np.round(first + rng.gamma(2.0, 12.0, n), 1)
    resolved[rng.random(n) < 0.1] = np.nan  # still open
    first[rng.random(n) < 0.05] = np.nan
    df = pd.DataFrame({"Ticket ID": np.arange(1, n + 1), "Ticket Channel": channel,
                       "Ticket Type": rng.choice(["Technical issue", "Billing inquiry", "Refund request",
                                                  "Product inquiry"], n),
                       "Ticket Subject": rng.choice(TICKET_SUBJECTS, n),
                       "First Response Time (h)": first, "Time to Resolution (h)": resolved,
                       "Customer Satisfaction Rating": np.where(rng.random(n) < 0.6, rng.integers(1, 6, n), np.nan)})
    yaml = """client: {name: "Support desk sample", language: en, industry: software}
inputs:
  tickets:
    file: tickets.csv
    columns: {ticket_id: Ticket ID, channel: Ticket Channel, category: Ticket Type, text: Ticket Subject,
              first_response_hours: First Response Time (h), resolution_hours: Time to Resolution (h),
              csat: Customer Satisfaction Rating}
"""
    return df, yaml


SHAPES = {"telecom": (telecom, "customers.csv"), "airline": (airline, "airline.csv"),
          "reviews_pl": (reviews_pl, "recenzje.csv"), "tweets_ru": (tweets_ru, "tweets.csv"),
          "tickets": (tickets, "tickets.csv")}


def write(root: Path = HERE) -> dict[str, Path]:
    """Write every shape under ``root/<shape>/``; the same files on every call (seeded)."""
    out = {}
    for i, (name, (make, file)) in enumerate(SHAPES.items()):
        rng = np.random.default_rng(SEED + i)
        df, yaml = make(rng)
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        df.to_csv(folder / file, index=False)
        (folder / "audit.yaml").write_text(yaml, encoding="utf-8")
        out[name] = folder
    return out


if __name__ == "__main__":
    for name, folder in write().items():
        print(name, folder)
