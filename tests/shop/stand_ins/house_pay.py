"""The shop's own gateway's stand-in: found in the app's stand_ins package."""

from billing.sandbox.gateways.dummy import DummyStandIn


class HousePayStandIn(DummyStandIn):
    slug = "house_pay"
    display_name = "House Pay"


stand_in = HousePayStandIn()
