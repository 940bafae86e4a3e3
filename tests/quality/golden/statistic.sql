-- check: {'type': 'quantile', 'column': 'amount', 'q': 0.95, 'max': 1000}
-- scan
SELECT
  COUNT(*) AS __rows,
  QUANTILE_CONT("amount", 0.95) AS c0_value
FROM READ_PARQUET(['/store/orders/v1/data/part-0.parquet', '/store/orders/v1/data/part-1.parquet']) AS __t;
