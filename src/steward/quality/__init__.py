"""Quality gates: checks and contracts compiled to SQL."""
