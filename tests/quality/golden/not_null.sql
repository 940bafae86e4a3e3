-- check: {'type': 'not_null', 'column': 'id'}
-- scan
SELECT
  COUNT(*) AS __rows,
  COUNT_IF("id" IS NULL) AS c0_fail
FROM READ_PARQUET(['/store/orders/v1/data/part-0.parquet', '/store/orders/v1/data/part-1.parquet']) AS __t;
-- predicate
"id" IS NULL;
-- sample
SELECT
  *
FROM READ_PARQUET(['/store/orders/v1/data/part-0.parquet', '/store/orders/v1/data/part-1.parquet']) AS __t
WHERE
  "id" IS NULL
LIMIT 20;
