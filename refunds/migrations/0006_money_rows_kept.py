"""Closures, refunds and held funds stay as written, even to the app's own database
login (see portal.fixed_rows). Rule S3: a refund's amount never changes (void and
reissue instead), nor its method, card, check number once printed, or the payee and
address a check can still be paid to; erasure (B7) blanks those only once the refund
is done. A closure keeps its amounts; held funds their amount and the refund that
paid them out. None is deleted."""

from django.db import migrations

from portal.fixed_rows import changed, keep_rows, set_once

# A refund in these can still be sent, printed, mailed or cashed.
MONEY_MOVING = "('pending', 'submitted', 'issued', 'mailed')"


class Migration(migrations.Migration):
    dependencies = [("refunds", "0005_dashboard_indexes")]

    operations = [
        keep_rows(
            "refunds_closure",
            refuse_when=" OR ".join(
                [
                    changed(
                        "reference",
                        "account_id",
                        "reason",
                        "closed_at",
                        "closed_by_id",
                        "address_id",
                        "balance_before_cents",
                        "deducted_cents",
                        "shortfall_cents",
                        "refund_cents",
                        "debit_untouched_cents",
                    ),
                    set_once("final_statement_id"),
                ]
            ),
            rule="a closure keeps its amounts and is never deleted",
        ),
        keep_rows(
            "refunds_refund",
            refuse_when=" OR ".join(
                [
                    changed(
                        "closure_id",
                        "replaces_id",
                        "method",
                        "amount_cents",
                        "created_at",
                        "card_brand",
                        "card_last4",
                        "card_token",
                        "address_state",
                    ),
                    set_once("check_number"),
                    f"(OLD.status IN {MONEY_MOVING} AND ("
                    + changed(
                        "payee_name",
                        "address_line1",
                        "address_line2",
                        "address_city",
                        "address_zip",
                    )
                    + "))",
                ]
            ),
            rule="a refund never changes its amount or where it goes: void and reissue instead",
        ),
        keep_rows(
            "refunds_heldfunds",
            refuse_when=" OR ".join(
                [
                    changed("closure_id", "refund_id", "amount_cents", "held_since"),
                    set_once("claimed_by_refund_id"),
                ]
            ),
            rule="held funds keep their amount and the refund that paid them out",
        ),
    ]
