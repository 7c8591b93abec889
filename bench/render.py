"""Time ``{% render_integration pay_pal %}`` against a plain template with the same inputs.

In one process, against the benchmark's PostgreSQL database:

  tag       get_integration + add_fields + render a page holding {% render_integration %}:
            build the fields, record the Payment (a new reference every time, so a row is
            inserted and committed), render billing/form.html
  no-record the same with record_payment replaced by a no-op on the instance
  build     build_fields + payment_terms + seal only (no template, no database)
  record    record_payment alone for a new reference (one transaction: SELECT FOR UPDATE,
            INSERT in a savepoint, COMMIT)
  plain     a plain template writing the same <form> and hidden inputs from a dict

Runs are interleaved; each figure is the median over the runs, in microseconds, of wall
time (includes waiting for PostgreSQL's commit) and of this process's CPU time.
    python render.py [renders, default 1000]
"""

import os
import sys
import time
from statistics import median

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchsite.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.template.loader import get_template  # noqa: E402

from billing import get_integration  # noqa: E402
from billing.models import Payment  # noqa: E402

ORDER = {"amount": "10.00", "currency_code": "USD", "item_name": "Order"}


def main(count: int) -> None:
    Payment.objects.filter(reference__startswith="RENDER-").delete()
    page = get_template("bench/checkout.html")
    plain = get_template("bench/plain_form.html")
    serial = iter(range(10**9))

    def fresh():
        pay_pal = get_integration("pay_pal")
        pay_pal.add_fields({**ORDER, "invoice": f"RENDER-{next(serial)}"})
        return pay_pal

    # The plain template gets exactly what the tag would pass to billing/form.html.
    sample = fresh()
    fields = sample.generate_form(None)
    plain_context = {
        "service_url": sample.service_url,
        "method": sample.method,
        "slug": sample.slug,
        "fields": fields,
        "button_label": f"Pay with {sample.display_name}",
    }
    expected = plain.render(plain_context).strip()
    sample = fresh()
    sample.add_field("invoice", fields["invoice"])
    got = page.render({"pay_pal": sample}).strip()
    assert got == expected, f"the two forms differ:\n{got}\n---\n{expected}"

    def tag() -> None:
        page.render({"pay_pal": fresh()})

    def no_record() -> None:
        pay_pal = fresh()
        pay_pal.record_payment = lambda terms: None
        page.render({"pay_pal": pay_pal})

    def build() -> None:
        pay_pal = fresh()
        final = pay_pal.build_fields(None)
        pay_pal.payment_terms(final)
        pay_pal.seal(final)

    def record() -> None:
        pay_pal = fresh()
        pay_pal.record_payment(pay_pal.payment_terms(pay_pal.build_fields(None)))

    def plain_render() -> None:
        plain.render(plain_context)

    cases = {
        "tag": tag,
        "no-record": no_record,
        "build": build,
        "record": record,
        "plain": plain_render,
    }
    timings: dict[str, list[float]] = {name: [] for name in cases}
    cpu: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(50):  # warm-up: caches, prepared statements
        for fn in cases.values():
            fn()
    for _ in range(count):
        for name, fn in cases.items():
            start, cpu_start = time.perf_counter(), time.process_time()
            fn()
            cpu[name].append((time.process_time() - cpu_start) * 1e6)
            timings[name].append((time.perf_counter() - start) * 1e6)
    recorded = Payment.objects.filter(reference__startswith="RENDER-").count()
    Payment.objects.filter(reference__startswith="RENDER-").delete()
    connection.close()

    wall = {name: median(values) for name, values in timings.items()}
    own = {name: median(values) for name, values in cpu.items()}
    labels = {
        "tag": "{% render_integration pay_pal %}: build + sign + record + render",
        "no-record": "  the same, record_payment a no-op",
        "build": "  build + sign only (no template, no database)",
        "record": "  record_payment only (one transaction, new reference)",
        "plain": "plain template, same hidden inputs",
    }
    print(f"render_integration: median of {count} interleaved runs, microseconds per render")
    print(f"  {'':<64}{'wall':>8}{'CPU':>8}")
    for name, label in labels.items():
        print(f"  {label:<64}{wall[name]:>8.0f}{own[name]:>8.0f}")
    print(
        f"  tag / plain: {wall['tag'] / wall['plain']:.1f}x wall, {own['tag'] / own['plain']:.1f}x"
        f" CPU; without the database write: {wall['no-record'] / wall['plain']:.1f}x wall,"
        f" {own['no-record'] / own['plain']:.1f}x CPU"
    )
    print(f"  payments recorded during the run: {recorded}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
