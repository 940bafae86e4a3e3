-- check: {'type': 'regex', 'column': 'email', 'pattern': '^[^@]+@[^@]+$'}
-- scan
SELECT
  COUNT(*) AS __rows,
  COUNT_IF(NOT REGEXP_MATCHES(CAST("email" AS TEXT), '^[^@]+@[^@]+$')) AS c0_fail
FROM READ_PARQUET(['/store/orders/v1/data/part-0.parquet', '/store/orders/v1/data/part-1.parquet']) AS __t;
-- predicate
NOT REGEXP_MATCHES(CAST("email" AS TEXT), '^[^@]+@[^@]+$');
-- sample
SELECT
  *
FROM READ_PARQUET(['/store/orders/v1/data/part-0.parquet', '/store/orders/v1/data/part-1.parquet']) AS __t
WHERE
  NOT REGEXP_MATCHES(CAST("email" AS TEXT), '^[^@]+@[^@]+$')
LIMIT 20;
