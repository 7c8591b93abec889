"""Mount with ``path("sandbox/", include("billing.sandbox.urls"))``: each stand-in at <slug>/.

Names are ``billing_sandbox:<slug>:<name>``; ``endpoints.sandbox_endpoint`` reverses
them, so the mount point is free.
"""

from django.urls import URLPattern, URLResolver, include, path

from . import views
from .gateways import stand_ins
from .gateways.base import StandIn

app_name = "billing_sandbox"


def _gateway_patterns(slug: str, stand_in: StandIn) -> list[URLPattern]:
    bound = {"gateway": slug}
    entries = [
        path(route, views.hosted_page, bound, name=name)
        for route, name in stand_in.checkout_paths.items()
    ]
    return [
        *entries,
        *stand_in.urlpatterns(),
        path("checkout/<str:token>/", views.checkout_page, bound, name="checkout"),
        path("checkout/<str:token>/decide/", views.decide, bound, name="decide"),
        path("issue/", views.issue, bound, name="issue"),
    ]


urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.index, name="index"),
    *(
        path(f"{slug}/", include((_gateway_patterns(slug, stand_in), slug)))
        for slug, stand_in in stand_ins().items()
    ),
]
