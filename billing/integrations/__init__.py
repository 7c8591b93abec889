"""Built-in integrations, one thin module per gateway: ``<slug>_integration.py``."""
