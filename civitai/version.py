"""The pack's version: a leaf (imports nothing), read by the User-Agent, the root package and
the service's status. Keep it equal to ``pyproject.toml``'s (a test compares them)."""

__version__ = "0.1.0"
