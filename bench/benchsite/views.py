"""The two floors every row is compared with."""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from .models import Sink


@csrf_exempt
def bare(request: HttpRequest) -> HttpResponse:
    """The framework floor: routing, middleware, an empty 200."""
    return HttpResponse(b"", content_type="text/plain")


@csrf_exempt
def insert(request: HttpRequest) -> HttpResponse:
    """The durable floor: the body is committed to PostgreSQL before the 200."""
    Sink.objects.create(body=request.body)
    return HttpResponse(b"", content_type="text/plain")
