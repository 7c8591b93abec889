"""Opayo Form (Elavon): an encrypted form; the customer's encrypted return is the notification."""

from ..exceptions import MalformedNotification
from ..integration import Integration
from ..models import NotificationLog
from ..protocols import opayo_form as opayo
from ..protocols.base import Inbound


class OpayoFormIntegration(Integration):
    slug = "opayo_form"
    display_name = "Opayo Form (Elavon)"
    protocol = opayo
    required_settings = ("VENDOR", "ENCRYPTION_PASSWORD")
    secret_settings = ("ENCRYPTION_PASSWORD",)
    settings_checks = {"ENCRYPTION_PASSWORD": opayo.password_key}
    endpoints = {"SERVICE_URL": (opayo.LIVE_SERVICE_URL, opayo.TEST_SERVICE_URL)}
    reference_field, amount_field, currency_field = "VendorTxCode", "Amount", "Currency"
    description_field = "Description"
    # Opayo sends the browser to either with ?crypt=: both are billing's return page.
    callback_fields = {"SuccessURL": "return", "FailureURL": "return"}
    receiver_setting = "VENDOR"  # the return does not name it; the password proves it
    # Opayo never calls notify/; it takes the same crypt (GET or POST) all the same.
    notify_methods = ("GET",)

    def seal(self, final_fields: dict[str, str]) -> dict[str, str]:
        return opayo.seal(final_fields, self.account)

    def parse_notification(self, inbound: Inbound) -> dict[str, str]:
        return opayo.opened(opayo.read(inbound), self.account)

    def handle_return(self, log: NotificationLog) -> None:
        """The return's crypt is Opayo's only notification: store and process it as one."""
        query = log.query_string.encode("utf-8")
        try:
            if opayo.find_crypt(query) is None:
                return
        except MalformedNotification:
            return  # not even a query string: nothing came back from Opayo
        from ..pipeline import process_fetched

        process_fetched(self, log, kind="notify", body=query)
