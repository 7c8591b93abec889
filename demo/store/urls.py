from django.urls import path

from . import views

app_name = "store"

urlpatterns = [
    path("", views.products, name="products"),
    path("buy/<slug:slug>/", views.buy, name="buy"),
    path("orders/<str:reference>/", views.order_page, name="order"),
    path("orders/<str:reference>/checkout/", views.checkout, name="checkout"),
    path("orders/<str:reference>/pay/<slug:gateway>/", views.pay, name="pay"),
    path("orders/<str:reference>/status/", views.order_status, name="status"),
    path("orders/<str:reference>/cancelled/", views.cancelled, name="cancelled"),
    path("orders/<str:reference>/notifications/", views.notifications, name="notifications"),
]
