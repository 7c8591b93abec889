"""Comparing the account a notification names with the shop's own.

Only ASCII letters fold: Unicode case folding maps look-alikes together (``ſ`` to
``s``, the Kelvin sign to ``k``), so an attacker's account could pass as the shop's.
"""


def same_account(reported: str, expected: str) -> bool:
    """Account ids (installation, PSPID, login): equal, character for character."""
    return bool(expected) and reported == expected


def same_email(reported: str, expected: str) -> bool:
    """E-mail addresses as gateways treat them: ASCII case-insensitive, nothing more."""
    if not expected:
        return False
    if reported == expected:
        return True
    return reported.isascii() and expected.isascii() and reported.lower() == expected.lower()
