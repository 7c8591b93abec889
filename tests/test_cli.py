"""The ``billing`` command: list, check, send (against a live shop and sandbox), replay."""

import os
import subprocess
import sys
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from billing import get_integration, http
from billing.__main__ import main
from billing.models import NotificationLog, Outcome, Payment, PaymentStatus, Verdict
from billing.sandbox.models import SentNotification
from tests.helpers import outcomes
from tests.pay_pal_data import ipn_body


def run(capsys: Any, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def cli(*argv: str, settings: str | None = None) -> subprocess.CompletedProcess[str]:
    """The real entry point, in a fresh process (no pytest-django set-up)."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    if settings:
        env["DJANGO_SETTINGS_MODULE"] = settings
    return subprocess.run(
        [sys.executable, "-m", "billing", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_help_says_which_commands_need_a_project() -> None:
    result = cli("--help")
    assert result.returncode == 0
    assert "DJANGO_SETTINGS_MODULE" in result.stdout
    for command in ("list", "check", "send", "replay"):
        assert command in result.stdout
    send_help = cli("send", "--help").stdout
    assert "postback" in send_help and "--sandbox" in send_help


def test_project_commands_refuse_to_run_without_settings() -> None:
    result = cli("list")
    assert result.returncode == 2
    assert "DJANGO_SETTINGS_MODULE" in result.stdout


def test_list_in_a_fresh_process(tmp_path: Any) -> None:
    result = cli("list", settings="tests.settings")
    assert result.returncode == 0, result.stdout + result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("pay_pal"))
    assert "configured" in line and "paypal.com" in line


def test_list_shows_configuration_and_problems(capsys: Any, settings: Any) -> None:
    settings.MERCHANT_SETTINGS = {"pay_pal": {}}
    code, out = run(capsys, "list")
    assert code == 1
    assert "incomplete" in out and "RECEIVER_EMAIL" in out


def test_list_shows_the_sandbox(capsys: Any, settings: Any) -> None:
    settings.BILLING_SANDBOX = True
    settings.BILLING_SANDBOX_URL = "http://127.0.0.1:9999"
    code, out = run(capsys, "list")
    assert code == 0
    assert "http://127.0.0.1:9999/sandbox/pay_pal/cgi-bin/webscr" in out
    assert "BILLING_SANDBOX is on" in out


def test_check_passes_and_fails(capsys: Any, settings: Any) -> None:
    settings.MERCHANT_SETTINGS = {"pay_pal": {"RECEIVER_EMAIL": "shop@example.com"}}
    settings.BILLING_SITE_URL = "https://shop.example"  # else W001: ALLOWED_HOSTS is ["*"]
    assert run(capsys, "check") == (0, "✓ billing settings pass every check\n")
    settings.BILLING_SANDBOX = True
    settings.DEBUG = False
    code, out = run(capsys, "check")
    assert code == 1
    assert "billing.E004" in out and "hint" in out


def test_send_dry_run_needs_no_project() -> None:
    result = cli(
        "send", "pay_pal", "--to", "http://shop.test/", "--receiver", "a@b.example",
        "--reference", "R-1", "--amount", "12.50", "--currency", "eur", "--dry-run",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    body = result.stdout.split("body", 1)[1].split()[0]
    fields = parse_qs(body)
    assert fields["invoice"] == ["R-1"] and fields["mc_gross"] == ["12.50"]
    assert fields["mc_currency"] == ["EUR"] and fields["payment_status"] == ["Completed"]
    assert "INVALID" in result.stdout  # says honestly that nothing vouches for it


def test_send_refuses_unknown_things(capsys: Any) -> None:
    assert run(capsys, "send", "nope", "--to", "http://x/")[0] == 2
    assert run(capsys, "send", "pay_pal", "--to", "http://x/", "--status", "odd")[0] == 2
    with pytest.raises(SystemExit):
        main(["send", "pay_pal", "--to", "http://x/", "--amount", "ten"])


# -- against a running shop and sandbox ----------------------------------------------------------


@pytest.fixture
def shop(live_server: Any, transactional_db: Any, settings: Any) -> Any:
    settings.DEBUG = True  # the sandbox serves nothing without it
    settings.BILLING_SANDBOX = True
    settings.BILLING_SANDBOX_URL = live_server.url
    settings.MERCHANT_TEST_MODE = True
    settings.MERCHANT_SETTINGS = {"pay_pal": {"RECEIVER_EMAIL": "shop@example.com"}}
    integration = get_integration("pay_pal")
    integration.add_fields({"invoice": "ORDER-1", "amount": "10.00", "currency_code": "EUR"})
    integration.generate_form()
    client = httpx.Client(timeout=10)
    http.set_client(client)
    yield live_server.url
    client.close()
    http.set_client(None)


def send(capsys: Any, shop: str, *extra: str, sandbox: bool = True) -> tuple[int, str]:
    args = ["send", "pay_pal", "--to", f"{shop}/billing/pay_pal/notify/", "--currency", "EUR"]
    if sandbox:
        args += ["--sandbox", f"{shop}/sandbox/"]
    return run(capsys, *args, *extra)


def test_send_through_sandbox_is_verified_and_paid(capsys: Any, shop: str) -> None:
    code, out = send(capsys, shop)
    assert code == 0, out
    assert "delivery 1" in out and "HTTP 200" in out and "✓ delivered 1 of 1" in out
    assert Payment.objects.get().status == PaymentStatus.PAID
    assert NotificationLog.objects.get().verification == Verdict.VALID
    assert SentNotification.objects.get().target.endswith("/billing/pay_pal/notify/")


def test_send_twice_is_applied_once(capsys: Any, shop: str) -> None:
    code, out = send(capsys, shop, "--twice")
    assert code == 0 and "delivered 2 of 2" in out
    assert outcomes() == [Outcome.APPLIED, Outcome.DUPLICATE]


def test_send_tampered_is_rejected(capsys: Any, shop: str) -> None:
    code, out = send(capsys, shop, "--tamper")
    assert code == 0 and "tampered" in out  # delivered: it is the shop that must refuse it
    log = NotificationLog.objects.get()
    assert (log.verification, log.outcome) == (Verdict.INVALID, Outcome.REJECTED)
    assert Payment.objects.get().status == PaymentStatus.PENDING


def test_send_shifted_amount_is_held(capsys: Any, shop: str) -> None:
    send(capsys, shop, "--shift", "-2.50")
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.REVIEW and "7.50" in payment.review_reason


def test_send_failed_status(capsys: Any, shop: str) -> None:
    send(capsys, shop, "--status", "failed")
    assert Payment.objects.get().status == PaymentStatus.FAILED


def test_send_without_sandbox_is_a_forgery_to_the_shop(capsys: Any, shop: str) -> None:
    code, out = send(capsys, shop, sandbox=False)
    assert code == 0 and "INVALID" in out
    assert NotificationLog.objects.get().outcome == Outcome.REJECTED
    assert Payment.objects.get().status == PaymentStatus.PENDING


def test_send_to_a_shop_that_is_down(capsys: Any) -> None:
    code, out = run(
        capsys, "send", "pay_pal", "--to", "http://127.0.0.1:9/notify/",
        "--receiver", "a@b.example", "--timeout", "2",
    )  # fmt: skip
    assert code == 1
    assert "ConnectError" in out and "delivered 0 of 1" in out


# -- replay ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_replay_processes_a_stored_notification(
    capsys: Any, settings: Any, fake_paypal: Any
) -> None:
    settings.MERCHANT_SETTINGS = {"pay_pal": {"RECEIVER_EMAIL": "shop@example.com"}}
    integration = get_integration("pay_pal")
    integration.add_fields({"invoice": "ORDER-1", "amount": "10.00"})
    integration.generate_form()
    body = fake_paypal.send(ipn_body())
    log = NotificationLog.objects.create(
        integration="pay_pal", method="POST", path="/billing/pay_pal/notify/", body=body
    )
    code, out = run(capsys, "replay", str(log.pk), "999999")
    assert code == 1  # one id does not exist
    assert f"#{log.pk} pay_pal notify: received -> applied" in out
    assert "#999999: no such notification" in out
    assert Payment.objects.get().status == PaymentStatus.PAID
    code, out = run(capsys, "replay", str(log.pk))
    assert code == 0 and "applied -> duplicate" in out


# -- tools that report --------------------------------------------------------------------------


def test_send_prints_the_shops_verdict(capsys: Any, shop: str) -> None:
    code, out = send(capsys, shop, "--twice")
    assert code == 0
    first, second = NotificationLog.objects.order_by("pk")
    assert f"verdict 1     log #{first.pk}, verification valid, applied" in out
    assert f"verdict 2     log #{second.pk}, verification valid, duplicate" in out


def test_send_tampered_prints_what_changed_and_the_rejection(capsys: Any, shop: str) -> None:
    code, out = send(capsys, shop, "--tamper")
    assert "mc_gross 10.00 -> 0.01" in out
    assert "verification invalid, rejected: the gateway did not confirm" in out


def test_send_shifted_prints_why_it_is_held(capsys: Any, shop: str) -> None:
    code, out = send(capsys, shop, "--shift", "-2.50")
    assert "held: amount 7.50 instead of 10.00" in out


@pytest.fixture
def gp_shop(live_server: Any, transactional_db: Any, settings: Any) -> Any:
    settings.MERCHANT_SETTINGS = {
        "global_payments": {
            "MERCHANT_ID": "shop",
            "ACCOUNT": "internet",
            "SHARED_SECRET": "s3cret-shared",
            "HASH_ALGORITHM": "sha256",
        }
    }
    integration = get_integration("global_payments")
    integration.add_order(reference="ORDER-1", amount=Decimal("10.00"), currency="EUR")
    integration.generate_form()
    return live_server.url


def test_send_builds_the_global_payments_order_id_from_a_bare_reference(
    capsys: Any, gp_shop: str
) -> None:
    code, out = run(
        capsys, "send", "global_payments", "--to", f"{gp_shop}/billing/global_payments/notify/",
        "--reference", "ORDER-1", "--currency", "EUR",
    )  # fmt: skip
    assert code == 0, out
    assert "ORDER-1_1000EUR_" in out and "the shop's wire form of ORDER-1" in out
    assert "verification valid, applied" in out
    assert Payment.objects.get().status == PaymentStatus.PAID


def test_send_says_did_you_mean(capsys: Any) -> None:
    code, out = run(capsys, "send", "paypal", "--to", "http://shop.test/", "--receiver", "a@b.c")
    assert code == 2 and "did you mean 'pay_pal'?" in out


def test_settings_after_the_command_and_a_missing_module() -> None:
    after = cli("list", "--settings", "tests.settings")
    assert after.returncode == 0 and "pay_pal" in after.stdout, after.stderr
    missing = cli("list", "--settings", "no_such_project.settings")
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert "cannot load the settings module 'no_such_project.settings'" in missing.stdout


def test_list_says_which_integrations_use_the_sandbox(capsys: Any, settings: Any) -> None:
    settings.BILLING_SANDBOX = True
    settings.MERCHANT_SETTINGS = {
        "pay_pal": {"RECEIVER_EMAIL": "shop@example.com"},
        "world_pay": {
            "INSTALLATION_ID": "1",
            "MD5_SECRET": "m",
            "CALLBACK_PASSWORD": "p",
            "TEST_MODE": False,
        },
    }
    code, out = run(capsys, "list")
    rows = {line.split()[0]: line for line in out.splitlines() if line[:1].islower()}
    assert " sandbox " in rows["pay_pal"]
    assert " live " in rows["world_pay"] and "sandbox" not in rows["world_pay"]


def test_list_warns_when_gateways_cannot_reach_the_shop(capsys: Any, settings: Any) -> None:
    settings.BILLING_SITE_URL = "http://127.0.0.1:8000"
    code, out = run(capsys, "list")
    assert "a real gateway cannot send notifications there" in out


def test_send_shifted_global_payments_is_held(capsys: Any, gp_shop: str) -> None:
    """The wire ORDER_ID carries the amount: the shifted report answers a form for it."""
    code, out = run(
        capsys, "send", "global_payments", "--to", f"{gp_shop}/billing/global_payments/notify/",
        "--reference", "ORDER-1", "--currency", "EUR", "--shift", "-1.00",
    )  # fmt: skip
    assert "held: amount 9.00 instead of 10.00" in out, out
    assert Payment.objects.get().status == PaymentStatus.REVIEW
