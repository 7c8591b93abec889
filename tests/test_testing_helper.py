"""billing.testing.notify, used as docs/testing.md shows it: the docs' example test as
written, the same test for every built-in gateway, and the example run as a shop's own
``manage.py test`` with ordinary settings (DEBUG off, no sandbox)."""

import os
import re
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from django.core import mail
from django.core.mail import send_mail
from django.db import connection, models, transaction
from django.test import TestCase, override_settings

from billing import get_integration, http
from billing.models import Payment
from billing.signals import transaction_was_successful
from billing.testing import FakePayPal, NotifyError, checkout, notify, statuses
from billing.testing.fakes import active_fake
from billing.testing.pytest_plugin import billing_fake_paypal, billing_notify  # noqa: F401
from tests.helpers import made_up_accounts

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "testing.md"

# -- the shop of the docs' example ------------------------------------------------------------


class Order(models.Model):
    """docs/testing.md's shop/models.py, in the app tests.shop (whose table this module
    creates: the app has no models module, so the test database has none of its own)."""

    reference = models.CharField(max_length=32, unique=True)
    total = models.DecimalField(max_digits=10, decimal_places=2)
    paid = models.BooleanField(default=False)

    class Meta:
        app_label = "shop"

    def __str__(self) -> str:
        return self.reference


def mark_paid(sender, type, response, **kwargs):
    """docs/testing.md's shop/receivers.py, connected only while this module's tests run."""
    Order.objects.filter(reference=response.reference).update(paid=True)
    # Outside the database: only once the payment's new state is committed.
    transaction.on_commit(
        lambda: send_mail(
            f"Order {response.reference} is paid", "Thank you.", None, ["buyer@example.com"]
        )
    )


@pytest.fixture(scope="module", autouse=True)
def order_table(django_db_setup: Any, django_db_blocker: Any) -> Any:
    with django_db_blocker.unblock():
        if Order._meta.db_table not in connection.introspection.table_names():
            with connection.schema_editor() as editor:
                editor.create_model(Order)
    yield
    with django_db_blocker.unblock():
        with connection.schema_editor() as editor:
            editor.delete_model(Order)


@pytest.fixture(autouse=True)
def shop_receivers() -> Any:
    transaction_was_successful.connect(mark_paid)
    yield
    transaction_was_successful.disconnect(mark_paid)


# -- the docs' example test, as written there ----------------------------------------------------


class PayPalPaymentTests(TestCase):
    def setUp(self):
        self.order = Order.objects.create(reference="ORDER-1", total=Decimal("10.00"))
        # What the checkout page does when it renders the PayPal form: billing records
        # the payment that notifications are bound to.
        checkout("pay_pal", reference="ORDER-1", amount=Decimal("10.00"), currency="EUR")
        # PayPal confirms each notification by postback: answered here, no network.
        self.paypal = self.enterContext(FakePayPal())

    def pay(self, **options):
        return notify(
            self.client,
            "pay_pal",
            reference="ORDER-1",
            amount=Decimal("10.00"),
            currency="EUR",
            **options,
        )

    def test_paid_order(self):
        with self.captureOnCommitCallbacks(execute=True):
            result = self.pay(status="paid")
        self.assertEqual(result.outcome, "applied")
        self.assertEqual(result.payment.status, "paid")
        self.order.refresh_from_db()
        self.assertTrue(self.order.paid)
        self.assertEqual(len(mail.outbox), 1)
        self.assertEqual(len(self.paypal.postbacks), 1)

    def test_repeated_notification_pays_once(self):
        with self.captureOnCommitCallbacks(execute=True):
            result = self.pay(twice=True)
        self.assertEqual(result.outcomes, ["applied", "duplicate"])
        self.assertEqual(len(result.sent("transaction_was_successful")), 1)
        self.assertEqual(len(mail.outbox), 1)

    def test_declined_payment(self):
        result = self.pay(status="failed")
        self.assertEqual(result.payment.status, "failed")
        self.order.refresh_from_db()
        self.assertFalse(self.order.paid)

    def test_forged_notification_changes_nothing(self):
        result = self.pay(forged=True)
        self.assertEqual(result.outcome, "rejected")
        self.order.refresh_from_db()
        self.assertFalse(self.order.paid)

    def test_tampered_notification_changes_nothing(self):
        result = self.pay(tamper=True)
        self.assertEqual(result.outcome, "rejected")
        self.order.refresh_from_db()
        self.assertFalse(self.order.paid)

    def test_other_amount_is_held_for_review(self):
        result = self.pay(charged=Decimal("9.00"))
        self.assertEqual(result.outcome, "held")
        self.assertEqual(result.payment.status, "review")
        self.order.refresh_from_db()
        self.assertFalse(self.order.paid)


def docs_blocks() -> dict[str, str]:
    """docs/testing.md's Python blocks that name a file on their first line."""
    blocks = re.findall(r"```python\n(# (\S+).*?\n.*?)```", DOCS.read_text(), re.DOTALL)
    return {name: code for code, name in blocks}


def test_the_example_above_is_the_docs_one() -> None:
    example = docs_blocks()["shop/tests.py"]
    test_class = example[example.index("class PayPalPaymentTests") :]
    this_file = Path(__file__).read_text()
    assert test_class in this_file
    receiver = docs_blocks()["shop/receivers.py"]
    body = receiver[receiver.index("    Order.objects") :]
    assert body in this_file


# -- the same, for every built-in gateway -------------------------------------------------------

# Made-up accounts (never real credentials), one per built-in gateway.
ACCOUNTS = made_up_accounts("helper")


class Gateway:
    """The docs' example for one gateway, with what that gateway does differently; in a
    shop's usual test settings (test mode, DEBUG off, no BILLING_SANDBOX)."""

    slug: ClassVar[str]
    accounts: ClassVar[dict[str, dict[str, Any]]] = ACCOUNTS
    tampered: ClassVar[str] = "rejected"  # the amount is signed
    declined: ClassVar[str] = "failed"

    def setUp(self) -> None:
        shop_settings = override_settings(
            MERCHANT_SETTINGS=self.accounts,
            MERCHANT_TEST_MODE=True,
            DEBUG=False,
            BILLING_SANDBOX=False,
        )
        self.enterContext(shop_settings)
        self.order = Order.objects.create(reference="ORDER-1", total=Decimal("10.00"))
        checkout(self.slug, reference="ORDER-1", amount=Decimal("10.00"), currency="EUR")
        self.paypal = self.enterContext(FakePayPal())

    def pay(self, **options: Any) -> Any:
        return notify(
            self.client,
            self.slug,
            reference="ORDER-1",
            amount=Decimal("10.00"),
            currency="EUR",
            **options,
        )

    def paid(self) -> bool:
        self.order.refresh_from_db()
        return self.order.paid

    def test_paid_is_applied_and_signalled_once(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            result = self.pay(status="paid")
        assert result.response.status_code == 200
        assert result.outcome == "applied"
        assert result.payment.status == "paid"
        assert len(result.sent("transaction_was_successful")) == 1
        notification = result.sent("transaction_was_successful")[0].kwargs["response"]
        assert (notification.reference, notification.amount) == ("ORDER-1", Decimal("10.00"))
        assert self.paid()
        assert len(mail.outbox) == 1
        # The shop stored what the gateway sent (less a secret it redacts: Worldpay's password).
        assert bytes(result.log.body) == get_integration(self.slug).redact_body(result.message.body)

    def test_twice_is_one_signal(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            result = self.pay(twice=True)
        assert result.outcomes == ["applied", "duplicate"]
        assert len(result.sent("transaction_was_successful")) == 1
        assert len(mail.outbox) == 1

    def test_called_again_is_another_transaction_not_applied(self) -> None:
        self.pay()
        again = self.pay()
        assert again.outcome in ("stale", "duplicate")
        assert again.sent("transaction_was_successful") == []

    def test_tampered_is_rejected_or_held(self) -> None:
        result = self.pay(tamper=True)
        assert result.outcome == self.tampered
        assert result.payment.status == ("review" if self.tampered == "held" else "pending")
        assert result.sent("transaction_was_successful") == []
        assert not self.paid()

    def test_shifted_is_held(self) -> None:
        result = self.pay(charged=Decimal("9.00"))
        assert result.outcome == "held"
        assert result.log.verification == "valid"
        assert result.payment.status == "review"
        assert "amount 9.00 instead of 10.00" in result.payment.review_reason
        assert [s.name for s in result.signals] == ["payment_status_changed"]
        assert not self.paid()

    def test_forged_is_rejected(self) -> None:
        result = self.pay(forged=True)
        assert result.outcome == "rejected"
        assert result.log.verification == "invalid"
        assert result.payment.status == "pending"
        assert result.signals == []

    def test_declined(self) -> None:
        result = self.pay(status="failed")
        assert result.outcome == "applied"
        assert result.payment.status == self.declined
        assert [s.name for s in result.sent("transaction_was_unsuccessful")] == [
            "transaction_was_unsuccessful"
        ]
        assert not self.paid()

    def test_amount_and_currency_default_to_the_payment(self) -> None:
        result = notify(self.client, self.slug, reference="ORDER-1")
        assert result.outcome == "applied"


class TestPayPal(Gateway, TestCase):
    slug = "pay_pal"

    def test_the_postback_was_answered_by_the_fake(self) -> None:
        result = self.pay()
        assert len(self.paypal.postbacks) == 1
        assert self.paypal.postbacks[0].content.endswith(result.message.body)


class TestWorldPay(Gateway, TestCase):
    slug = "world_pay"
    tampered = "held"  # the callback is not signed: only the amount check stands
    declined = "cancelled"  # Worldpay reports no decline: the customer cancels


class TestGlobalPayments(Gateway, TestCase):
    slug = "global_payments"

    def test_the_wire_order_id_carries_the_amount(self) -> None:
        result = self.pay(charged=Decimal("9.00"))
        assert re.search(rb"ORDER_ID=ORDER-1_900EUR_[0-9a-f]{8}&", result.message.body)


class TestOgonePayments(Gateway, TestCase):
    slug = "ogone_payments"


class TestOgonePaymentsByGet(Gateway, TestCase):
    """Worldline's post-sale request as GET: the parameters on the query string."""

    slug = "ogone_payments"
    accounts = {
        **ACCOUNTS,
        "ogone_payments": {**ACCOUNTS["ogone_payments"], "SANDBOX_POST_SALE_METHOD": "GET"},
    }

    def test_paid_is_applied_and_signalled_once(self) -> None:
        result = self.pay()
        assert result.message.method == "GET"
        assert result.log.method == "GET"
        assert result.log.query_string == result.message.body.decode()
        assert result.outcome == "applied"
        assert len(result.sent("transaction_was_successful")) == 1


class TestAuthorizeNetDpm(Gateway, TestCase):
    slug = "authorize_net_dpm"


# -- the helper itself ---------------------------------------------------------------------------


@pytest.fixture
def accounts(settings: Any) -> Any:
    settings.MERCHANT_SETTINGS = {slug: dict(account) for slug, account in ACCOUNTS.items()}
    settings.MERCHANT_TEST_MODE = True
    return settings


@pytest.mark.django_db
def test_the_pytest_fixture(accounts: Any, billing_notify: Any) -> None:  # noqa: F811
    checkout("pay_pal", reference="ORDER-1", amount="10.00", currency="EUR")
    result = billing_notify("pay_pal", reference="ORDER-1", status="paid")
    assert result.outcome == "applied"
    assert len(billing_notify.fake.postbacks) == 1


@pytest.mark.django_db
def test_without_a_fake_one_is_entered_for_the_call_and_the_client_given_back(
    accounts: Any, client: Any
) -> None:
    shops_own = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(500)))
    http.set_client(shops_own)
    try:
        checkout("pay_pal", reference="ORDER-1", amount="10.00", currency="EUR")
        assert notify(client, "pay_pal", reference="ORDER-1").outcome == "applied"
        assert http.get_client() is shops_own
        assert active_fake("pay_pal") is None
    finally:
        http.set_client(None)
        shops_own.close()


def test_fakes_nest_and_give_back_what_was_there() -> None:
    before = http._client
    with FakePayPal() as outer:
        outer_client = http.get_client()
        with FakePayPal() as inner:
            assert active_fake("pay_pal") is inner
            assert http.get_client() is not outer_client
        assert active_fake("pay_pal") is outer
        assert http.get_client() is outer_client
    assert http._client is before
    assert active_fake("pay_pal") is None


@pytest.mark.django_db
def test_paypal_down_is_retried_never_paid(accounts: Any, client: Any) -> None:
    checkout("pay_pal", reference="ORDER-1", amount="10.00", currency="EUR")
    with FakePayPal() as paypal:
        paypal.unreachable = True
        result = notify(client, "pay_pal", reference="ORDER-1")
    assert result.outcome == "retry"
    assert result.payment is not None and result.payment.status == "pending"


@pytest.mark.django_db
def test_a_receiver_that_raises_is_retried(accounts: Any, client: Any) -> None:
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("the order table is gone")

    checkout("world_pay", reference="ORDER-1", amount="10.00", currency="EUR")
    transaction_was_successful.connect(broken)
    try:
        result = notify(client, "world_pay", reference="ORDER-1")
    finally:
        transaction_was_successful.disconnect(broken)
    assert result.outcome == "retry"
    assert "broken" in result.log.error
    assert result.payment is not None and result.payment.status == "pending"


@pytest.mark.django_db
def test_no_payment_asked_for_is_held(accounts: Any, client: Any) -> None:
    result = notify(client, "ogone_payments", reference="ORDER-9", amount="5.00", currency="EUR")
    assert result.outcome == "held"
    assert result.payment is None


@pytest.mark.django_db
def test_method_can_be_forced(accounts: Any, client: Any) -> None:
    checkout("ogone_payments", reference="ORDER-1", amount="10.00", currency="EUR")
    assert notify(client, "ogone_payments", reference="ORDER-1", method="GET").outcome == (
        "applied"
    )
    checkout("pay_pal", reference="ORDER-2", amount="10.00", currency="EUR")
    refused = notify(client, "pay_pal", reference="ORDER-2", method="GET")
    assert (refused.response.status_code, refused.outcome) == (405, "rejected")


def test_statuses() -> None:
    assert statuses("world_pay") == ["paid", "cancelled", "failed"]
    assert statuses("global_payments") == ["paid", "failed"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "call", "says"),
    [
        ({"MERCHANT_TEST_MODE": False}, {}, "MERCHANT_TEST_MODE = True"),
        ({}, {"slug": "not_a_gateway"}, "no stand-in for 'not_a_gateway'"),
        ({}, {"status": "refunded"}, "sends paid, cancelled, failed"),
        ({}, {"amount": None}, "pass amount= and currency="),
        ({}, {"currency": "GBP", "slug": "authorize_net_dpm"}, "would refuse this"),
        ({"MERCHANT_SETTINGS": {}}, {}, "MERCHANT_SETTINGS['world_pay']"),
    ],
    ids=["live", "unknown-gateway", "unknown-status", "no-payment", "refused", "unconfigured"],
)
def test_errors_say_what_to_set(
    accounts: Any, client: Any, change: dict[str, Any], call: dict[str, Any], says: str
) -> None:
    for name, value in change.items():
        setattr(accounts, name, value)
    options: dict[str, Any] = {"amount": "10.00", "currency": "EUR", **call}
    slug = options.pop("slug", "world_pay")
    with pytest.raises(NotifyError, match=re.escape(says)):
        notify(client, slug, reference="ORDER-1", **options)


@pytest.mark.django_db
def test_a_live_integration_is_never_signed_for(accounts: Any, client: Any) -> None:
    accounts.MERCHANT_SETTINGS["world_pay"]["TEST_MODE"] = False
    with pytest.raises(NotifyError, match="never sign for a live account"):
        notify(client, "world_pay", reference="ORDER-1", amount="10.00", currency="EUR")
    assert Payment.objects.count() == 0


# -- the docs' example as a shop's own test suite --------------------------------------------------

SHOP_SETTINGS = """
SECRET_KEY = "shop-tests"
ROOT_URLCONF = "shop_urls"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "billing", "shop"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]
USE_TZ = True
MERCHANT_SETTINGS = {"pay_pal": {"RECEIVER_EMAIL": "shop@example.com"}}
"""
SHOP_URLS = """
from django.urls import include, path
urlpatterns = [path("billing/", include("billing.urls"))]
"""


def test_the_docs_example_runs_as_a_shops_test_suite(tmp_path: Path) -> None:
    """Production-like settings: DEBUG off, no BILLING_SANDBOX, no billing.sandbox app, no
    BILLING_SITE_URL; the shop's files exactly as docs/testing.md shows them."""
    shop = tmp_path / "shop"
    shop.mkdir()
    (shop / "__init__.py").write_text("")
    for name, code in docs_blocks().items():
        if name.startswith("shop/"):
            (tmp_path / name).write_text(code)
    assert {p.name for p in shop.iterdir()} >= {"models.py", "receivers.py", "apps.py", "tests.py"}
    (tmp_path / "shop_settings.py").write_text(textwrap.dedent(SHOP_SETTINGS))
    (tmp_path / "shop_urls.py").write_text(SHOP_URLS)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "shop_settings",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
    }
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "django", "test", "-v", "2", "shop.tests"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Ran 6 tests" in result.stderr and "OK" in result.stderr


def test_billing_testing_imports_before_django_is_set_up() -> None:
    code = "import billing.testing, billing.testing.fakes; print(billing.testing.__all__[0])"
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.django_db
def test_a_fake_given_is_entered_for_the_call(accounts: Any, client: Any) -> None:
    checkout("pay_pal", reference="ORDER-1", amount="10.00", currency="EUR")
    paypal = FakePayPal()
    with FakePayPal() as other:
        result = notify(client, "pay_pal", reference="ORDER-1", fake=paypal)
        assert not paypal.installed and other.installed
    assert result.outcome == "applied"
    assert len(paypal.postbacks) == 1 and other.postbacks == []


@pytest.mark.django_db
def test_a_gateway_asked_by_postback_without_a_fake_is_a_clear_error(
    settings: Any, client: Any
) -> None:
    """PayFast confirms its ITN by a validation post: notify() has no fake for it, and
    says so, rather than failing with a KeyError."""
    settings.MERCHANT_TEST_MODE = True
    settings.MERCHANT_SETTINGS = {
        "pay_fast": {"MERCHANT_ID": "10000100", "MERCHANT_KEY": "k", "PASSPHRASE": "p"}
    }
    checkout("pay_fast", reference="ORDER-1", amount="10.00", currency="ZAR")
    with pytest.raises(NotifyError, match="cannot answer pay_fast's own check"):
        notify(client, "pay_fast", reference="ORDER-1")
