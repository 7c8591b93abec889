"""iPay88 Malaysia (billing.protocols.ipay88): the OPSG hosted payment page."""

from ..integration import Integration
from ..protocols import ipay88


class Ipay88Integration(Integration):
    slug = "ipay88"
    display_name = "iPay88"
    protocol = ipay88
    required_settings = ("MERCHANT_CODE", "MERCHANT_KEY")
    secret_settings = ("MERCHANT_KEY",)
    endpoints = {"SERVICE_URL": (ipay88.LIVE_SERVICE_URL, ipay88.TEST_SERVICE_URL)}
    reference_field, amount_field, currency_field = "RefNo", "Amount", "Currency"
    description_field = "ProdDesc"
    # The currencies of the Malaysian gateway (MYR, and USD and CNY where enabled).
    currencies = ("MYR", "USD", "CNY")
    callback_fields = {"ResponseURL": "return", "BackendURL": "notify"}
