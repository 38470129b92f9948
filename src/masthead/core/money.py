"""Money is integer minor units plus a currency; this renders it for readers."""

from __future__ import annotations

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$"}
ZERO_DECIMAL = {"JPY", "KRW"}


def format_money(amount_minor: int, currency: str) -> str:
    """1500 USD -> "$15", 99 USD -> "$0.99", 1550 EUR -> "€15.50" (whole amounts drop cents)."""
    currency = currency.upper()
    sign = "-" if amount_minor < 0 else ""
    amount = abs(amount_minor)
    if currency in ZERO_DECIMAL:
        number = f"{amount:,}"
    elif amount % 100 == 0:
        number = f"{amount // 100:,}"
    else:
        number = f"{amount // 100:,}.{amount % 100:02d}"
    symbol = SYMBOLS.get(currency)
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {currency}"
