"""dbt: `steward import dbt` and dbt-compatible artifacts."""
