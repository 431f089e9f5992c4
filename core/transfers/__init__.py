"""transfers (issue 6)."""
