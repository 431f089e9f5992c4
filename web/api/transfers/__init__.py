"""``/api/v1/transfers`` (issue 6)."""
