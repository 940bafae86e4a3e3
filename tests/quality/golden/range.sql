-- check: {'type': 'range', 'column': 'amount', 'min': 0, 'max': 100, 'max_inclusive': False}
-- scan
SELECT
  COUNT(*) AS __rows,
  COUNT_IF("amount" < 0 OR "amount" >= 100) AS c0_fail
FROM READ_PARQUET(['/store/orders/v1/data/part-0.parquet', '/store/orders/v1/data/part-1.parquet']) AS __t;
-- predicate
"amount" < 0 OR "amount" >= 100;
-- sample
SELECT
  *
FROM READ_PARQUET(['/store/orders/v1/data/part-0.parquet', '/store/orders/v1/data/part-1.parquet']) AS __t
WHERE
  "amount" < 0 OR "amount" >= 100
LIMIT 20;
