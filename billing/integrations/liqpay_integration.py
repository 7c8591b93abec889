"""LiqPay (billing.protocols.liqpay): Checkout API 3, signed base64 JSON both ways."""

from ..integration import Integration
from ..protocols import liqpay


class LiqpayIntegration(Integration):
    slug = "liqpay"
    display_name = "LiqPay"
    protocol = liqpay
    required_settings = ("PUBLIC_KEY", "PRIVATE_KEY")
    secret_settings = ("PRIVATE_KEY",)
    endpoints = {"SERVICE_URL": (liqpay.LIVE_SERVICE_URL, liqpay.TEST_SERVICE_URL)}
    reference_field, amount_field, currency_field = "order_id", "amount", "currency"
    description_field = "description"
    # The currencies of LiqPay's current checkout (others by LiqPay's leave only).
    currencies = ("UAH", "USD", "EUR")
    callback_fields = {"result_url": "return", "server_url": "notify"}
