"""Bringing projects from other tools into Steward, and artifacts those tools read."""
