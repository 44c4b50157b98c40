import datetime as dt

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.models import (
    AdvanceConnect,
    CustomerAccount,
    DirectBill,
    DirectBillCharge,
    DirectBillPayment,
    DirectBillStatement,
    EMessaging,
    LedgerEntry,
    MailingAddress,
    PhoneNumber,
    PurchaseMethod,
    SecurusDebit,
    StampEntry,
    TopUpEnrolment,
    User,
    VideoSession,
    VideoSubscription,
)
from accounts.services import ledger_entries_post

PASSWORD = "a-long-test-password-9"


class UserFactory(factory.django.DjangoModelFactory):
    """A person who can sign in, with a verified primary email address."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"holder{n}@example.test")
    first_name = "Maria"
    last_name = factory.Sequence(lambda n: f"Lopez{n}")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def verified_email(self, create, extracted, **kwargs):
        if create:
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)

    class Params:
        staff = factory.Trait(is_staff=True)


class CustomerAccountFactory(factory.django.DjangoModelFactory):
    """An open account with an address on record and one phone number."""

    class Meta:
        model = CustomerAccount
        skip_postgeneration_save = True

    holder = factory.SubFactory(UserFactory)
    number = factory.Sequence(lambda n: f"7{n:08d}")
    service_state = "TX"
    time_zone = "America/Chicago"
    opened_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=400))
    last_activity_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=3))

    @factory.post_generation
    def address(self, create, extracted, **kwargs):
        if create and extracted is not False:
            MailingAddressFactory(account=self, **(extracted or {}))

    @factory.post_generation
    def phone(self, create, extracted, **kwargs):
        if create and extracted is not False:
            PhoneNumber.objects.create(account=self, number=extracted or "+15125550100")

    class Params:
        new_mexico = factory.Trait(service_state="NM", time_zone="America/Denver")


class MailingAddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MailingAddress

    account = factory.SubFactory(CustomerAccountFactory, address=False)
    line1 = "1200 E 6TH ST"
    line2 = ""
    city = "AUSTIN"
    state = "TX"
    zip_code = "78702"
    created_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=300))

    class Params:
        with_apartment = factory.Trait(
            line1="455 PEACHTREE ST NE",
            line2="APT 4B",
            city="ATLANTA",
            state="GA",
            zip_code="30308",
        )
        replaced = factory.Trait(
            replaced_at=factory.LazyAttribute(lambda o: o.created_at + dt.timedelta(days=100))
        )
        confirmed = factory.Trait(
            confirmed_at=factory.LazyAttribute(lambda o: o.created_at + dt.timedelta(days=1))
        )


class PhoneNumberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PhoneNumber

    account = factory.SubFactory(CustomerAccountFactory, phone=False)
    number = factory.Sequence(lambda n: f"+1512555{n % 10000:04d}")


class AdvanceConnectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AdvanceConnect

    account = factory.SubFactory(CustomerAccountFactory)
    opened_at = factory.LazyAttribute(lambda o: o.account.opened_at)


class LedgerEntryFactory(factory.django.DjangoModelFactory):
    """A deposit by default; traits for the other kinds of entry."""

    class Meta:
        model = LedgerEntry

    advance_connect = factory.SubFactory(AdvanceConnectFactory)
    kind = LedgerEntry.Kind.DEPOSIT
    amount_cents = 5000
    occurred_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=30))
    method = PurchaseMethod.ONLINE_CARD
    card_brand = "Visa"
    card_last4 = "4242"
    processor_token = factory.Sequence(lambda n: f"tok_{n:06d}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        """Through the ledger service, so the kept balance moves with the row."""
        [entry] = ledger_entries_post(entries=[model_class(*args, **kwargs)])
        entry.advance_connect.refresh_from_db()
        return entry

    class Params:
        by_mail = factory.Trait(
            method=PurchaseMethod.MAIL, card_brand="", card_last4="", processor_token=""
        )
        by_moneygram = factory.Trait(
            method=PurchaseMethod.MONEYGRAM, card_brand="", card_last4="", processor_token=""
        )
        by_western_union = factory.Trait(
            method=PurchaseMethod.WESTERN_UNION, card_brand="", card_last4="", processor_token=""
        )
        settled_call = factory.Trait(
            kind=LedgerEntry.Kind.CALL_CHARGE,
            method="",
            card_brand="",
            card_last4="",
            processor_token="",
            number_called="+15125550100",
            settled_at=factory.LazyAttribute(lambda o: o.occurred_at + dt.timedelta(hours=12)),
        )
        unsettled_call = factory.Trait(
            kind=LedgerEntry.Kind.CALL_CHARGE,
            method="",
            card_brand="",
            card_last4="",
            processor_token="",
            number_called="+15125550100",
            occurred_at=factory.LazyFunction(lambda: timezone.now() - dt.timedelta(hours=3)),
        )
        refund = factory.Trait(
            kind=LedgerEntry.Kind.REFUND,
            method="",
            card_brand="",
            card_last4="",
            processor_token="",
            memo="Refund at closure",
        )
        shortfall = factory.Trait(
            kind=LedgerEntry.Kind.SHORTFALL,
            method="",
            card_brand="",
            card_last4="",
            processor_token="",
            memo="Unsettled calls above the balance, written off",
        )


class TopUpEnrolmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TopUpEnrolment

    account = factory.SubFactory(CustomerAccountFactory)
    kind = TopUpEnrolment.Kind.AUTOPAY
    enrolled_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=90))

    class Params:
        textpay = factory.Trait(kind=TopUpEnrolment.Kind.TEXTPAY)
        terminated = factory.Trait(
            terminated_at=factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))
        )


class DirectBillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DirectBill

    account = factory.SubFactory(CustomerAccountFactory)
    billing_day = 1
    opened_at = factory.LazyAttribute(lambda o: o.account.opened_at)


class DirectBillStatementFactory(factory.django.DjangoModelFactory):
    """An issued, unpaid monthly statement; `paid` adds the payment that settles it."""

    class Meta:
        model = DirectBillStatement

    direct_bill = factory.SubFactory(DirectBillFactory)
    statement_date = factory.LazyFunction(lambda: (timezone.now() - dt.timedelta(days=25)).date())
    amount_cents = 2940
    due_date = factory.LazyAttribute(lambda o: o.statement_date + dt.timedelta(days=20))
    created_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=25))

    class Params:
        paid = factory.Trait(
            status=DirectBillStatement.Status.PAID,
            payment=factory.RelatedFactory(
                "tests.factories.accounts.DirectBillPaymentFactory",
                factory_related_name="statement",
                amount_cents=factory.SelfAttribute("..amount_cents"),
            ),
        )


class DirectBillPaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DirectBillPayment

    statement = factory.SubFactory(DirectBillStatementFactory)
    amount_cents = 1000
    paid_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=16))


class DirectBillChargeFactory(factory.django.DjangoModelFactory):
    """An unbilled call this cycle; `billed` puts it on a statement."""

    class Meta:
        model = DirectBillCharge

    direct_bill = factory.SubFactory(DirectBillFactory)
    occurred_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=2))
    number_called = "+15125550100"
    amount_cents = 315

    class Params:
        billed = factory.Trait(
            occurred_at=factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=40)),
            statement=factory.SubFactory(
                DirectBillStatementFactory, direct_bill=factory.SelfAttribute("..direct_bill")
            ),
        )


class SecurusDebitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SecurusDebit

    account = factory.SubFactory(CustomerAccountFactory)
    incarcerated_name = "Luis Reyes"
    facility = "Travis County Correctional Complex"
    balance_cents = 2500


class EMessagingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EMessaging
        skip_postgeneration_save = True

    account = factory.SubFactory(CustomerAccountFactory)

    @factory.post_generation
    def stamps(self, create, extracted, **kwargs):
        """`EMessagingFactory(stamps=12)`: buys 12 stamps."""
        if create and extracted:
            StampEntry.objects.create(
                emessaging=self,
                kind=StampEntry.Kind.PURCHASE,
                stamps=extracted,
                amount_cents=extracted * 50,
                occurred_at=timezone.now() - dt.timedelta(days=20),
            )


class StampEntryFactory(factory.django.DjangoModelFactory):
    """Stamps bought; `used` spends them."""

    class Meta:
        model = StampEntry

    emessaging = factory.SubFactory(EMessagingFactory)
    kind = StampEntry.Kind.PURCHASE
    stamps = 10
    amount_cents = factory.LazyAttribute(lambda o: o.stamps * 50)
    occurred_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=10))

    class Params:
        used = factory.Trait(kind=StampEntry.Kind.USE, amount_cents=0)


class VideoSubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VideoSubscription

    account = factory.SubFactory(CustomerAccountFactory)
    plan = "VideoConnect Monthly"
    monthly_price_cents = 999
    started_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=60))

    class Params:
        cancelled = factory.Trait(
            status=VideoSubscription.Status.CANCELLED,
            cancelled_at=factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=5)),
        )


class VideoSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VideoSession

    account = factory.SubFactory(CustomerAccountFactory)
    starts_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=5))
    facility = "Travis County Correctional Complex"
    incarcerated_name = "Luis Reyes"
    amount_paid_cents = 1295

    class Params:
        past = factory.Trait(
            starts_at=factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=5)),
            status=VideoSession.Status.COMPLETED,
        )
