"""One tree of errors under BillingError; the seed's names stay importable."""


class BillingError(Exception):
    """Base of every error this package raises on purpose."""


class IntegrationModuleNotFound(BillingError, ImportError):
    """No integration module of that name exists (or the service was retired)."""


class IntegrationNotConfigured(BillingError):
    """MERCHANT_SETTINGS lacks the integration or some of its required keys."""


class MalformedNotification(BillingError, ValueError):
    """A notification body that cannot be parsed; answered with HTTP 400."""


class VerificationUnavailable(BillingError):
    """The gateway could not be asked whether a notification is authentic."""


class PaymentConflict(BillingError):
    """A form would change a payment that is no longer pending."""


class InvalidData(BillingError, ValueError):
    """Fields given to an integration are missing or out of range."""


class ReceiverFailed(BillingError):
    """A signal receiver raised: the payment's change is rolled back and retried."""


class ReviewError(BillingError):
    """A review decision that cannot be taken (not held, or already decided)."""
