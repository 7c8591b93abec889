from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """A separate app so a shop installs the stand-ins (and their tables) only where wanted."""

    name = "billing.sandbox"
    label = "billing_sandbox"
    verbose_name = "Billing sandbox"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ..integration import register_sandbox
        from .endpoints import sandbox_endpoint

        register_sandbox(sandbox_endpoint)
