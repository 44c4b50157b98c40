"""Money is integer cents everywhere; this is the one place it becomes dollars."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")


def cents_to_decimal(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


def decimal_to_cents(amount) -> int:
    """Dollars (Decimal or str, never float) to integer cents, rounding half up."""
    if isinstance(amount, float):
        raise TypeError("Money is never a float; pass a Decimal or a string.")
    try:
        value = Decimal(amount)
    except InvalidOperation as exc:
        raise ValueError(f"Not an amount of money: {amount!r}") from exc
    return int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def format_cents(cents: int | None) -> str:
    """`4250` → `$42.50`; `-105` → `-$1.05`."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    dollars, rest = divmod(abs(int(cents)), 100)
    return f"{sign}${dollars:,}.{rest:02d}"
