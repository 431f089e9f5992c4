"""circumstances (issue 6)."""
