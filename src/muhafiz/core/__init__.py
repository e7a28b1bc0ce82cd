"""Shared building blocks: settings helpers, crypto, identifiers, permissions."""
