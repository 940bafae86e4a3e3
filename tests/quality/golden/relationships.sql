-- check: {'type': 'relationships', 'column': 'customer_id', 'to': 'customers', 'field': 'id'}
-- scan
SELECT
  COUNT(*) AS __rows,
  COUNT("customer_id") AS c0_nonnull
FROM READ_PARQUET(['/store/orders/v1/data/part-0.parquet', '/store/orders/v1/data/part-1.parquet']) AS __t;
-- predicate
NOT "__t"."customer_id" IS NULL
AND NOT EXISTS(
  SELECT
    1
  FROM READ_PARQUET('/store/customers/v3/data/part-0.parquet') AS __p
  WHERE
    "__p"."id" = "__t"."customer_id"
);
-- query
SELECT
  COUNT(*),
  COUNT(DISTINCT "__t"."customer_id")
FROM READ_PARQUET(['/store/orders/v1/data/part-0.parquet', '/store/orders/v1/data/part-1.parquet']) AS __t
WHERE
  NOT "__t"."customer_id" IS NULL
  AND NOT EXISTS(
    SELECT
      1
    FROM READ_PARQUET('/store/customers/v3/data/part-0.parquet') AS __p
    WHERE
      "__p"."id" = "__t"."customer_id"
  );
-- sample
SELECT
  *
FROM READ_PARQUET(['/store/orders/v1/data/part-0.parquet', '/store/orders/v1/data/part-1.parquet']) AS __t
WHERE
  NOT "__t"."customer_id" IS NULL
  AND NOT EXISTS(
    SELECT
      1
    FROM READ_PARQUET('/store/customers/v3/data/part-0.parquet') AS __p
    WHERE
      "__p"."id" = "__t"."customer_id"
  )
LIMIT 20;
