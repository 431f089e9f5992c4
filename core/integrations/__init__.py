"""Partner systems and the council's casework (issue #5): advice requested from the NHS and
social care through plugins, advice taken back onto the case, social care status."""
