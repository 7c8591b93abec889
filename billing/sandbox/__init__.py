"""Local stand-ins for the payment gateways, for development, demos and browser tests.

Each stand-in plays the gateway's side of the protocol, written from the gateway's
documentation rather than from this package's integration code, so that the two sides
can disagree and a test can catch it. Turn it on with ``BILLING_SANDBOX = True`` and
mount ``path("sandbox/", include("billing.sandbox.urls"))``; see docs/sandbox.md.
"""
