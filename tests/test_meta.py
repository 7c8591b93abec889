"""Every built-in integration comes with all its parts (docs/adding-a-gateway.md)."""

import ast
from pathlib import Path

import pytest

from billing.registry import built_in_slugs
from billing.sandbox.gateways import stand_ins
from billing.testing.traits import TRAITS
from demo import settings as demo_settings

ROOT = Path(__file__).resolve().parent.parent


def conformance_slugs() -> set[str]:
    """``slug = "..."`` of every class that derives from IntegrationConformance."""
    found = set()
    for path in (ROOT / "tests").glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ClassDef):
                continue
            bases = {getattr(b, "id", getattr(b, "attr", "")) for b in node.bases}
            if "IntegrationConformance" not in bases:
                continue
            for item in node.body:
                if isinstance(item, ast.Assign) and getattr(item.targets[0], "id", "") == "slug":
                    found.add(ast.literal_eval(item.value))
    return found


SLUGS = built_in_slugs()
README = (ROOT / "README.md").read_text()


def test_the_built_ins_are_found() -> None:
    assert {"pay_pal", "world_pay", "dummy"} <= set(SLUGS)


@pytest.mark.parametrize("slug", SLUGS)
def test_every_integration_has_all_its_parts(slug: str) -> None:
    assert slug in stand_ins(), "a sandbox stand-in"
    assert (ROOT / "docs" / "integrations" / f"{slug}.md").is_file(), "a docs page"
    assert f"[`{slug}`](docs/integrations/{slug}.md)" in README, "a README row"
    assert slug in conformance_slugs(), "a conformance class"
    assert slug in demo_settings.MERCHANT_SETTINGS, "an entry in the demo"
    assert slug in TRAITS, "a row in the traits table (which the browser flows run over)"
