-- check: {'type': 'length', 'column': 'code', 'min': 2, 'max': 8}
-- scan
SELECT
  COUNT(*) AS __rows,
  COUNT_IF(LENGTH(CAST("code" AS TEXT)) < 2 OR LENGTH(CAST("code" AS TEXT)) > 8) AS c0_fail
FROM READ_PARQUET(['/store/orders/v1/data/part-0.parquet', '/store/orders/v1/data/part-1.parquet']) AS __t;
-- predicate
LENGTH(CAST("code" AS TEXT)) < 2 OR LENGTH(CAST("code" AS TEXT)) > 8;
-- sample
SELECT
  *
FROM READ_PARQUET(['/store/orders/v1/data/part-0.parquet', '/store/orders/v1/data/part-1.parquet']) AS __t
WHERE
  LENGTH(CAST("code" AS TEXT)) < 2 OR LENGTH(CAST("code" AS TEXT)) > 8
LIMIT 20;
