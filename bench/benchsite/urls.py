from django.urls import include, path

from . import views

urlpatterns = [
    path("bare/", views.bare),
    path("insert/", views.insert),
    path("billing/", include("billing.urls")),
    path("paypal/", include("paypal.standard.ipn.urls")),
]
