"""Mount with ``path("sandbox/", include("billing.sandbox.urls"))``: each stand-in at <slug>/.

Names are ``billing_sandbox:<slug>:<name>``; ``endpoints.sandbox_endpoint`` reverses
them, so the mount point is free.
"""

from django.urls import URLPattern, URLResolver, include, path

from . import views
from .gateways import stand_ins

app_name = "billing_sandbox"


def _gateway_patterns(slug: str) -> list[URLPattern]:
    bound = {"gateway": slug}
    return [
        path("checkout/<str:token>/", views.checkout_page, bound, name="checkout"),
        path("checkout/<str:token>/decide/", views.decide, bound, name="decide"),
        path("issue/", views.issue, bound, name="issue"),
    ]


urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.index, name="index"),
    *(
        path(f"{slug}/", include((stand_in.urlpatterns() + _gateway_patterns(slug), slug)))
        for slug, stand_in in stand_ins().items()
    ),
]
