from django.apps import AppConfig


class BenchsiteConfig(AppConfig):
    name = "benchsite"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # django-paypal 2.1 posts back to paypal.standard.models.{SANDBOX_,}POSTBACK_ENDPOINT
        # (module constants read by PayPalStandardBase.get_endpoint at call time). Point both
        # at the same local postback server as billing's POSTBACK_URL; nothing else changes.
        from django.conf import settings
        from paypal.standard import models as paypal_models

        paypal_models.POSTBACK_ENDPOINT = settings.POSTBACK_URL
        paypal_models.SANDBOX_POSTBACK_ENDPOINT = settings.POSTBACK_URL
