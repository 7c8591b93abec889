"""Products for the demo shop and a demo admin account; safe to run again."""

from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from demo.store.models import Product

PRODUCTS = [
    (
        "enamel-mug",
        "Enamel mug",
        "Speckled blue enamel, 350 ml. Campfire-proof.",
        "12.00",
        "mug",
        "#3d6fb6",
    ),
    (
        "dot-grid-notebook",
        "Dot-grid notebook",
        "A5, 160 pages of 100 g paper that takes ink.",
        "9.50",
        "notebook",
        "#2a9d8f",
    ),
    (
        "canvas-tote",
        "Canvas tote",
        "Heavy cotton canvas with an inside pocket.",
        "18.00",
        "tote",
        "#d08c2e",
    ),
    (
        "letterpress-print",
        "Letterpress print",
        "A kettle and a quill, printed by hand, 30 × 40 cm.",
        "24.00",
        "print",
        "#b5484b",
    ),
]


def load_products() -> None:
    for position, (slug, name, blurb, price, icon, color) in enumerate(PRODUCTS):
        Product.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "blurb": blurb,
                "price": Decimal(price),
                "currency": "EUR",
                "icon": icon,
                "color": color,
                "position": position,
            },
        )


class Command(BaseCommand):
    help = "Load the demo shop's products and a demo/demo admin account."

    def handle(self, *args: Any, **options: Any) -> None:
        load_products()
        users = get_user_model().objects
        if not users.filter(username="demo").exists():
            users.create_superuser("demo", "demo@kettle-and-quill.example", "demo")
        self.stdout.write(f"{len(PRODUCTS)} products; admin login demo / demo")
