-- check: {'type': 'expression', 'expression': 'shipped_at >= ordered_at'}
-- scan
SELECT
  COUNT(*) AS __rows,
  COUNT_IF(NOT (
    shipped_at >= ordered_at
  )) AS c0_fail
FROM READ_PARQUET(['/store/orders/v1/data/part-0.parquet', '/store/orders/v1/data/part-1.parquet']) AS __t;
-- predicate
NOT (
  shipped_at >= ordered_at
);
-- sample
SELECT
  *
FROM READ_PARQUET(['/store/orders/v1/data/part-0.parquet', '/store/orders/v1/data/part-1.parquet']) AS __t
WHERE
  NOT (
    shipped_at >= ordered_at
  )
LIMIT 20;
