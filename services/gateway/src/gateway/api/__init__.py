"""The public JSON API under /api/v1."""
