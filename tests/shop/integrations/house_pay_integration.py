"""A gateway a shop adds itself (here on the dummy protocol), with its own stand-in."""

from billing.integrations.dummy_integration import DummyIntegration


class HousePayIntegration(DummyIntegration):
    slug = "house_pay"
    display_name = "House Pay"
