"""Rule B8: Positive Pay issue files out, BAI2 paid-items files in (exceptions listed,
never guessed), the NAUPA unclaimed property report, and who may do what."""

import datetime as dt
import hashlib
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from portal.models import AuditEvent
from refunds.bank_files.layouts import Field, Layout, LayoutError, render
from refunds.models import BankFile, BankFileException, PositivePayFile, PositivePayItem, Refund
from refunds.services import transitions as t
from refunds.services.bank_files import (
    BankFileRefused,
    bank_file_download,
    bank_file_exception_resolve,
    bank_file_import,
    positive_pay_file_create,
    positive_pay_file_download,
)
from tests.factories.refunds import RefundFactory
from tests.helpers import bai2_paid_items as bai2

pytestmark = pytest.mark.django_db

S = Refund.Status
ACCOUNT = "000123456789"
AT = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.timezone.utc)
MARCH_9 = dt.date(2026, 3, 9)


@pytest.fixture(autouse=True)
def _bank(settings):
    settings.POSITIVE_PAY_ACCOUNT_NUMBER = ACCOUNT
    settings.POSITIVE_PAY_ROUTING_NUMBER = "011000015"
    settings.POSITIVE_PAY_LAYOUT = "fixed_100"


@pytest.fixture
def clerk(staff):
    return staff("Refund operations")


def check(number, cents, *, status=S.MAILED, payee="Charles Okafor", issued_on=MARCH_9):
    return RefundFactory(
        issued=True,
        status=status,
        check_number=number,
        amount_cents=cents,
        payee_name=payee,
        issued_on=issued_on,
        mailed_on=issued_on if status != S.ISSUED else None,
    )


# --- Positive Pay issue files ---


def a_day_with_issued_and_voided_checks(clerk):
    """Check 100100 went to the bank yesterday and is voided today; 100101 and 100102
    are issued today."""
    sent = check("100100", 2500, issued_on=dt.date(2026, 3, 5), payee="Ana Ruiz")
    positive_pay_file_create(actor=clerk, at=AT - dt.timedelta(days=1))
    t.refund_void(refund=sent, actor=clerk, reason="Holder lost it", at=AT)
    check("100101", 4250, status=S.ISSUED, payee="José Núñez")
    check("100102", 123405, payee="Charles Okafor")


def test_fixed_width_issue_file_matches_the_file_written_by_hand(clerk):
    """rule B8: fixed_100 layout, byte for byte (Ascender's 100-character layout)."""
    a_day_with_issued_and_voided_checks(clerk)

    pay_file = positive_pay_file_create(actor=clerk, at=AT)

    expected = (
        # account     void 14-15 check number amount (cents) issue date _ payee (54)
        "000123456789" + " " + "  " + "0000100101" + "000000004250" + "20260309" + " "
        "JOSE NUNEZ                                            \r\n"
        "000123456789" + " " + "  " + "0000100102" + "000000123405" + "20260309" + " "
        "CHARLES OKAFOR                                        \r\n"
        "000123456789" + "2" + "  " + "0000100100" + "000000002500" + "20260305" + " "
        "ANA RUIZ                                              \r\n"
    )
    assert pay_file.content == expected
    assert all(len(line) == 100 for line in pay_file.content.split("\r\n")[:-1])
    assert (pay_file.issue_count, pay_file.void_count, pay_file.total_cents) == (2, 1, 127655)
    assert len(pay_file.sha256) == 64


def test_csv_issue_file_matches_the_file_written_by_hand(clerk, settings):
    """rule B8: issue_void_csv layout (I/C, MMDDYY, decimal amounts), byte for byte."""
    settings.POSITIVE_PAY_LAYOUT = "issue_void_csv"
    a_day_with_issued_and_voided_checks(clerk)

    pay_file = positive_pay_file_create(actor=clerk, at=AT)

    assert pay_file.content == (
        "I,000123456789,100101,030926,42.50,Jose Nunez\r\n"
        "I,000123456789,100102,030926,1234.05,Charles Okafor\r\n"
        "C,000123456789,100100,030526,25.00,Ana Ruiz\r\n"
    )
    assert pay_file.filename.endswith(".csv")


def test_a_check_is_never_sent_twice_unless_asked(clerk):
    check("100201", 4250)
    first = positive_pay_file_create(actor=clerk, at=AT)

    with pytest.raises(BankFileRefused, match="nothing to send"):
        positive_pay_file_create(actor=clerk, at=AT)
    again = positive_pay_file_create(actor=clerk, resend=True, at=AT)

    assert first.items.get().check_number == "100201"
    assert again.items.get().resent is True
    assert PositivePayFile.objects.count() == 2


def test_a_check_voided_before_it_was_ever_sent_is_not_sent(clerk):
    never_sent = check("100301", 4250)
    t.refund_void(refund=never_sent, actor=clerk, reason="Misprinted", at=AT)

    with pytest.raises(BankFileRefused):
        positive_pay_file_create(actor=clerk, at=AT)
    assert not PositivePayItem.objects.exists()


def test_a_date_range_picks_checks_issued_in_it(clerk):
    check("100401", 1000, issued_on=dt.date(2026, 3, 2))
    check("100402", 2000, issued_on=dt.date(2026, 3, 9))

    pay_file = positive_pay_file_create(
        actor=clerk, date_from=dt.date(2026, 3, 9), date_to=dt.date(2026, 3, 9), at=AT
    )

    assert [item.check_number for item in pay_file.items.all()] == ["100402"]


def test_making_an_issue_file_is_audited(clerk):
    check("100501", 4250)
    pay_file = positive_pay_file_create(actor=clerk, at=AT)

    event = AuditEvent.objects.get(action="positive_pay_file.created")
    assert event.actor == clerk
    assert event.after["issued"] == ["100501"]
    assert event.after["sha256"] == pay_file.sha256


def test_an_amount_wider_than_the_layout_is_refused_not_cut():
    layout = Layout(
        key="narrow",
        label="narrow",
        kind="fixed",
        record_length=4,
        source="test",
        fields=(Field("amount_cents", start=1, width=4, justify="right", pad="0"),),
    )
    assert render(layout, [{"amount_cents": 4250}]) == "4250\r\n"
    with pytest.raises(LayoutError):
        render(layout, [{"amount_cents": 100000}])


# --- BAI2 paid items ---


@pytest.fixture
def mailed_checks():
    return {
        "100001": check("100001", 4250),
        "100002": check("100002", 1000),
        "100003": check("100003", 2500),
        "100004": check("100004", 7777),
    }


PAID = [
    ("100001", 4250),  # line 4: clears
    ("0000100002", 1000),  # line 5: clears (leading zeros, as banks write them)
    ("999999", 5000),  # line 6: unknown check
    ("100003", 5200),  # line 7: amount differs ($25.00 issued)
    ("100001", 4250),  # line 8: paid twice
]


def test_a_bai2_file_clears_exactly_the_matching_checks_and_lists_three_exceptions(
    clerk, mailed_checks
):
    """rule B8: exact number and amount clear; unknown, amount and duplicate are listed."""
    bank_file, created = bank_file_import(content=bai2(PAID), filename="paid.bai", actor=clerk)

    assert created
    statuses = {n: Refund.objects.get(pk=r.pk) for n, r in mailed_checks.items()}
    assert {n for n, r in statuses.items() if r.status == S.CASHED} == {"100001", "100002"}
    assert statuses["100001"].cleared_on == dt.date(2026, 3, 10)
    assert statuses["100003"].status == S.MAILED
    exceptions = list(bank_file.exceptions.order_by("line"))
    assert [(e.line, e.check_number, e.amount_cents, e.reason) for e in exceptions] == [
        (6, "999999", 5000, BankFileException.Reason.UNKNOWN_CHECK),
        (7, "100003", 5200, BankFileException.Reason.AMOUNT_DIFFERS),
        (8, "100001", 4250, BankFileException.Reason.PAID_TWICE),
    ]
    assert exceptions[1].detail == "Check 100003 is for $25.00; the bank paid $52.00."
    assert (bank_file.paid_count, bank_file.cleared_count, bank_file.exception_count) == (5, 2, 3)
    # cleared through the same service as the "Mark cashed" button: one refund.cashed each
    assert AuditEvent.objects.filter(action="refund.cashed").count() == 2
    assert AuditEvent.objects.get(action="bank_file.imported").after["cleared"] == [
        "100001",
        "100002",
    ]


def test_the_same_file_again_changes_nothing(clerk, mailed_checks):
    bank_file_import(content=bai2(PAID), filename="paid.bai", actor=clerk)
    events = AuditEvent.objects.count()

    bank_file, created = bank_file_import(content=bai2(PAID), filename="again.bai", actor=clerk)

    assert not created
    assert bank_file.filename == "paid.bai"
    assert BankFile.objects.count() == 1
    assert BankFileException.objects.count() == 3
    assert AuditEvent.objects.count() == events


def test_void_stale_and_unmailed_checks_are_exceptions_not_cleared(clerk):
    check("100601", 1000, status=S.VOID)
    check("100602", 2000, status=S.STALE)
    check("100603", 3000, status=S.ISSUED)
    paid = [("100601", 1000), ("100602", 2000), ("100603", 3000)]

    bank_file, _created = bank_file_import(content=bai2(paid), filename="p.bai", actor=clerk)

    assert not Refund.objects.filter(status=S.CASHED).exists()
    assert [e.reason for e in bank_file.exceptions.order_by("line")] == [
        BankFileException.Reason.VOID_OR_STALE,
        BankFileException.Reason.VOID_OR_STALE,
        BankFileException.Reason.NOT_MAILED,
    ]


@pytest.mark.parametrize(
    "content, message",
    [
        pytest.param(bai2(PAID).rsplit(b"\n98,", 1)[0], "not a whole BAI2 file", id="truncated"),
        pytest.param(bai2(PAID, tamper_total=100), "control totals", id="wrong-totals"),
        pytest.param(b"check,amount\n100001,42.50\n", "not a BAI2 file", id="csv"),
        pytest.param(b"", "not a BAI2 file", id="empty"),
        pytest.param(b"\xff\xfe01,\x00", "not a BAI2 file", id="binary"),
        pytest.param(bai2(PAID, account="999"), "no records for the refund account", id="other"),
    ],
)
def test_a_damaged_file_is_refused_whole_and_nothing_is_applied(
    clerk, mailed_checks, content, message
):
    with pytest.raises(BankFileRefused, match=message):
        bank_file_import(content=content, filename="bad.bai", actor=clerk)

    assert not Refund.objects.filter(status=S.CASHED).exists()
    assert not BankFile.objects.exists()
    assert not BankFileException.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="bank_file").exists()


def test_an_exception_is_resolved_with_a_note_once_and_audited(clerk, mailed_checks):
    bank_file, _created = bank_file_import(content=bai2(PAID), filename="p.bai", actor=clerk)
    exception = bank_file.exceptions.get(reason=BankFileException.Reason.UNKNOWN_CHECK)

    with pytest.raises(BankFileRefused, match="note is required"):
        bank_file_exception_resolve(exception=exception, actor=clerk, note="  ")
    bank_file_exception_resolve(exception=exception, actor=clerk, note="Not ours: bank reversed")
    bank_file_exception_resolve(exception=exception, actor=clerk, note="Not ours: bank reversed")

    exception.refresh_from_db()
    assert exception.resolved_by == clerk
    event = AuditEvent.objects.get(action="bank_file_exception.resolved")
    assert event.reason == "Not ours: bank reversed"


def test_import_bank_file_command(clerk, mailed_checks, tmp_path):
    path = tmp_path / "paid.bai"
    path.write_bytes(bai2(PAID))
    out = StringIO()

    call_command("import_bank_file", str(path), stdout=out)
    call_command("import_bank_file", str(path), stdout=out)

    assert "5 checks paid, 2 cleared, 3 exceptions to decide." in out.getvalue()
    assert "already imported" in out.getvalue()
    assert BankFile.objects.get().imported_by_label == "import_bank_file"
    bad = tmp_path / "bad.bai"
    bad.write_bytes(bai2(PAID, tamper_total=1))
    with pytest.raises(CommandError, match="Refused, nothing was applied"):
        call_command("import_bank_file", str(bad))


# --- who may do what (SPEC §5) ---


def test_refund_operations_make_issue_files_and_import_paid_items(signed_in, mailed_checks):
    client = signed_in("Refund operations")

    response = client.post(reverse("admin:refunds_positivepayfile_new"), {})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="positive-pay_6789')
    assert response.content == PositivePayFile.objects.get().content.encode()

    upload = client.post(
        reverse("admin:refunds_bankfile_upload"),
        {"paid_items": _upload(bai2(PAID))},
        follow=True,
    )
    assert "2 checks cleared, 3 exceptions to decide." in upload.content.decode()


def test_a_refused_upload_says_why_in_plain_words(signed_in, mailed_checks):
    client = signed_in("Refund operations")

    response = client.post(
        reverse("admin:refunds_bankfile_upload"),
        {"paid_items": _upload(bai2(PAID, tamper_total=5))},
    )

    assert response.status_code == 200
    assert "The file was refused and nothing was applied." in response.content.decode()
    assert not BankFile.objects.exists()


def test_auditors_download_files_but_apply_nothing(signed_in, clerk, mailed_checks):
    pay_file = positive_pay_file_create(actor=clerk, at=AT)
    bank_file, _created = bank_file_import(content=bai2(PAID), filename="p.bai", actor=clerk)
    exception = bank_file.exceptions.first()
    client = signed_in("Auditor")

    download = client.get(
        reverse("admin:refunds_positivepayfile_actions", args=[pay_file.pk, "download"])
    )
    assert download.content == pay_file.content.encode()
    paid = client.get(reverse("admin:refunds_bankfile_actions", args=[bank_file.pk, "download"]))
    assert paid.content == bai2(PAID)
    assert AuditEvent.objects.filter(action="positive_pay_file.downloaded").count() == 1

    assert client.post(reverse("admin:refunds_positivepayfile_new"), {}).status_code == 403
    refused = client.post(
        reverse("admin:refunds_bankfile_upload"), {"paid_items": _upload(bai2(PAID[:1]))}
    )
    assert refused.status_code == 403
    resolve = client.post(
        reverse("admin:refunds_bankfileexception_actions", args=[exception.pk, "resolve"]),
        {"note": "auditor", "apply": "1"},
    )
    assert resolve.status_code == 403
    exception.refresh_from_db()
    assert exception.resolved_at is None


def test_support_sees_no_bank_files(signed_in):
    client = signed_in("Support")

    assert client.get(reverse("admin:refunds_bankfile_changelist")).status_code == 403
    assert client.get(reverse("admin:refunds_positivepayfile_new")).status_code == 403


def _upload(content: bytes):
    return SimpleUploadedFile("paid.bai", content, content_type="application/octet-stream")


# --- a stored file changed in the database is never handed out (rule B8, S5) ---


def test_an_issue_file_rewritten_with_its_hash_is_refused_and_not_downloaded(
    signed_in, clerk, mailed_checks
):
    """Someone with the database login changes a payee in the stored issue file and
    recomputes the `sha256` column: the file no longer matches the SHA-256 its keyed
    creation event recorded, so the download is refused and nothing is recorded."""
    pay_file = positive_pay_file_create(actor=clerk, at=AT)
    forged = pay_file.content.replace("CHARLES OKAFOR", "MALLORY OKAFOR")
    assert forged != pay_file.content
    PositivePayFile.objects.filter(pk=pay_file.pk).update(
        content=forged, sha256=hashlib.sha256(forged.encode("ascii")).hexdigest()
    )
    pay_file.refresh_from_db()
    client = signed_in("Refund operations")

    response = client.get(
        reverse("admin:refunds_positivepayfile_actions", args=[pay_file.pk, "download"]),
        follow=True,
    )

    assert "MALLORY" not in response.content.decode()
    assert "is not the file that was recorded" in response.content.decode()
    assert not AuditEvent.objects.filter(action="positive_pay_file.downloaded").exists()
    with pytest.raises(BankFileRefused, match="Nothing was downloaded"):
        positive_pay_file_download(pay_file=pay_file, actor=clerk)


def test_an_issue_file_with_no_creation_event_is_refused(clerk, mailed_checks):
    pay_file = positive_pay_file_create(actor=clerk, at=AT)
    pay_file.pk = None
    pay_file.save()  # a copy written straight into the table, with no audit event

    with pytest.raises(BankFileRefused, match="not the file that was recorded"):
        positive_pay_file_download(pay_file=pay_file, actor=clerk)


def test_a_paid_items_file_changed_in_the_database_is_refused(clerk, mailed_checks):
    bank_file, _created = bank_file_import(content=bai2(PAID), filename="p.bai", actor=clerk)
    changed = bank_file.content.replace(",", ", ", 1)
    BankFile.objects.filter(pk=bank_file.pk).update(content=changed)
    bank_file.refresh_from_db()

    with pytest.raises(BankFileRefused, match="Nothing was downloaded"):
        bank_file_download(bank_file=bank_file, actor=clerk)
    assert not AuditEvent.objects.filter(action="bank_file.downloaded").exists()


def test_an_untouched_file_downloads_as_made(clerk, mailed_checks):
    pay_file = positive_pay_file_create(actor=clerk, at=AT)

    assert positive_pay_file_download(pay_file=pay_file, actor=clerk) == pay_file.content.encode()
    assert AuditEvent.objects.filter(action="positive_pay_file.downloaded").count() == 1
