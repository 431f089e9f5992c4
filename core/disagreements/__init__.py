"""disagreements (issue 6)."""
