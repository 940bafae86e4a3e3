"""Profiles, metric history, drift and anomalies."""
