"""SQL understanding with sqlglot: parsing, references, normalisation, rewriting."""
