"""Versioned SQL migrations of the gold schema: ``VNNN__name.sql``, applied in order."""
