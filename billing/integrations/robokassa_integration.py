"""Robokassa (billing.protocols.robokassa): form signed with Password#1, ResultURL with #2."""

from ..integration import Integration
from ..protocols import robokassa


class RobokassaIntegration(Integration):
    slug = "robokassa"
    display_name = "Robokassa"
    protocol = robokassa
    required_settings = ("MERCHANT_LOGIN", "PASSWORD1", "PASSWORD2")
    secret_settings = ("PASSWORD1", "PASSWORD2")
    # One address for test and live: test mode is IsTest=1 in the form.
    endpoints = {"SERVICE_URL": (robokassa.SERVICE_URL, robokassa.SERVICE_URL)}
    reference_field, amount_field = "InvId", "OutSum"
    description_field = "Description"
    currencies = (robokassa.CURRENCY,)
    # ResultURL by POST or GET, as set in Robokassa's technical settings.
    notify_methods = ("GET",)
    # The ResultURL does not name the shop: Password#2 proves the account.
    receiver_setting = "MERCHANT_LOGIN"
    # Per payment, instead of the technical settings' ResultURL, SuccessURL and FailURL.
    callback_fields = {"ResultUrl2": "notify", "SuccessUrl2": "return", "FailUrl2": "cancel"}
