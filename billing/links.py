"""The signed ``ref`` of the return and cancel URLs billing builds for a customer."""

from django.core import signing


def reference_signer(slug: str) -> signing.Signer:
    """Keyed by SECRET_KEY, per integration: a reference typed by anyone else, or signed
    for another integration, names no payment."""
    return signing.Signer(salt=f"billing.return.{slug}")


def signed_reference(slug: str, reference: str, signature: str) -> bool:
    try:  # constant-time comparison inside unsign
        reference_signer(slug).unsign(f"{reference}{signing.Signer().sep}{signature}")
    except signing.BadSignature:
        return False
    return True
