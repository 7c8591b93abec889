"""Mount with ``path("billing/", include("billing.urls"))``: every integration at <slug>/.

The slug is resolved per request, so configuration is never frozen at import time;
an unconfigured slug answers 404 (and is still logged).
"""

from django.urls import path

from . import start, views

app_name = "billing"

urlpatterns = [
    path("<slug:integration>/notify/", views.notify, name="notify"),
    path("<slug:integration>/return/", views.return_view, name="return"),
    path("<slug:integration>/cancel/", views.cancel_view, name="cancel"),
    # Checkouts created by API (billing.api_checkout): the rendered form posts here.
    path("<slug:integration>/start/", start.start, name="start"),
]
