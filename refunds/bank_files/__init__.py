"""Bank files (rule B8): Positive Pay issue files out, BAI2 paid-items files in, and the
unclaimed property report in the NAUPA standard format. Layouts are data (`layouts`),
so a new bank is a new layout, not new code."""
