"""Test helpers for integrations: the conformance mixin and gateway fakes."""
