"""The shop's own data. Payment state is never stored here: it is billing's Payment,
moved only by verified notifications; the order page reads it from there."""

import secrets
import string

from django.db import models

from billing.models import Payment


class Product(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=100)
    blurb = models.CharField(max_length=200)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3, default="EUR")
    icon = models.CharField(max_length=20)
    color = models.CharField(max_length=7)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.name


def new_reference() -> str:
    return "KQ-" + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(6))


class Order(models.Model):
    reference = models.CharField(max_length=20, unique=True, default=new_reference)
    product = models.ForeignKey(Product, on_delete=models.PROTECT)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3)
    gateway = models.CharField(max_length=50, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The customer came back through the gateway's cancel link. Not a payment state:
    # the gateway says nothing, and a late payment would still count.
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.reference

    @property
    def payment(self) -> Payment | None:
        if not self.gateway:
            return None
        return Payment.objects.filter(integration=self.gateway, reference=self.reference).first()
