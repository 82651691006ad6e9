"""Moved to ``shared/versions.py`` (the sender's picker compares versions too); kept so the
receiver's imports keep working."""

from shared.versions import compare_versions, is_same_or_newer

__all__ = ["compare_versions", "is_same_or_newer"]
