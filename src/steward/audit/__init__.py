"""Compliance: the hash-chained audit trail, PII classification, compliance reports."""
