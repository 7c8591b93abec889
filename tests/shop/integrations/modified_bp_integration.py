"""A shop's own integration, found by get_integration before the built-ins."""

from billing.integrations.pay_pal_integration import PayPalIntegration


class ModifiedBpIntegration(PayPalIntegration):
    slug = "modified_bp"
    display_name = "Modified PayPal"
