-- check: {'type': 'freshness', 'column': 'loaded_at', 'max_age': '1d'}
-- scan
SELECT
  COUNT(*) AS __rows,
  MAX("loaded_at") AS c0_max
FROM READ_PARQUET(['/store/orders/v1/data/part-0.parquet', '/store/orders/v1/data/part-1.parquet']) AS __t;
