"""Operations: freshness SLOs, schedules, alerts, the Prometheus exposition, delivery
metrics and the maturity score. Functions here take a :class:`steward.context.Context`."""
