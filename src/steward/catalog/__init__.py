"""Discovery: catalog search, glossary, column lineage, ownership."""
