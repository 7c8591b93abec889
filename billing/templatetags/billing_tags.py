"""``{% render_integration obj %}``: the gateway form, signed, with the payment recorded."""

from typing import Any

from django import template
from django.template.loader import select_template
from django.utils.safestring import SafeString

from ..integration import Integration

register = template.Library()


@register.simple_tag(takes_context=True)
def render_integration(
    context: template.Context, integration: Integration, autosubmit: bool = False
) -> SafeString:
    fields = integration.generate_form(context.get("request"))
    form = select_template([f"billing/{integration.slug}/form.html", "billing/form.html"])
    data: dict[str, Any] = {
        "integration": integration,
        "service_url": integration.service_url,
        "method": integration.method,
        "fields": fields,
        "autosubmit": autosubmit,
        "button_label": f"Pay with {integration.display_name}",
    }
    return form.render(data)
