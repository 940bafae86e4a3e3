-- check: {'type': 'accepted_values', 'column': 'status', 'values': ['open', 'closed']}
-- scan
SELECT
  COUNT(*) AS __rows,
  COUNT_IF(NOT "status" IN ('open', 'closed')) AS c0_fail
FROM READ_PARQUET(['/store/orders/v1/data/part-0.parquet', '/store/orders/v1/data/part-1.parquet']) AS __t;
-- predicate
NOT "status" IN ('open', 'closed');
-- sample
SELECT
  *
FROM READ_PARQUET(['/store/orders/v1/data/part-0.parquet', '/store/orders/v1/data/part-1.parquet']) AS __t
WHERE
  NOT "status" IN ('open', 'closed')
LIMIT 20;
