"""The AdvanceConnect ledger and Direct Bill's money rows stay as written, even to the
app's own database login (see portal.fixed_rows): a ledger row is never edited except
that a call charge is stamped settled once; a bill's amount and dates, a charge and the
statement it went on, and a payment never change; none is deleted."""

from django.db import migrations

from portal.fixed_rows import changed, keep_rows, set_once


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_customeraccount_sweep_claim_index")]

    operations = [
        keep_rows(
            "accounts_ledgerentry",
            refuse_when=" OR ".join(
                [
                    changed(
                        "advance_connect_id",
                        "kind",
                        "amount_cents",
                        "occurred_at",
                        "method",
                        "card_brand",
                        "card_last4",
                        "processor_token",
                    ),
                    set_once("settled_at"),
                ]
            ),
            rule="a ledger row is never changed, only a call charge is settled once",
        ),
        keep_rows(
            "accounts_directbillstatement",
            refuse_when=changed(
                "direct_bill_id",
                "statement_date",
                "amount_cents",
                "due_date",
                "is_final",
                "created_at",
            ),
            rule="a statement keeps its amount and dates, and is never deleted",
        ),
        keep_rows(
            "accounts_directbillcharge",
            refuse_when=" OR ".join(
                [
                    changed("direct_bill_id", "occurred_at", "amount_cents"),
                    set_once("statement_id"),
                ]
            ),
            rule="a charge keeps its amount and the statement it was billed on",
        ),
        keep_rows(
            "accounts_directbillpayment",
            refuse_when=changed("statement_id", "amount_cents", "paid_at", "recorded_by_id"),
            rule="a payment is never changed or deleted",
        ),
    ]
