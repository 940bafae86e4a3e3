-- check: {'type': 'unique', 'columns': ['order_id', 'line']}
-- query
SELECT
  COALESCE(SUM(n), 0),
  COALESCE(SUM(n) - COUNT(*), 0)
FROM (
  SELECT
    "order_id",
    "line",
    COUNT(*) AS n
  FROM READ_PARQUET(['/store/orders/v1/data/part-0.parquet', '/store/orders/v1/data/part-1.parquet']) AS __t
  WHERE
    NOT "order_id" IS NULL AND NOT "line" IS NULL
  GROUP BY
    "order_id",
    "line"
) AS __g;
-- sample
SELECT
  "order_id",
  "line",
  COUNT(*) AS duplicates
FROM READ_PARQUET(['/store/orders/v1/data/part-0.parquet', '/store/orders/v1/data/part-1.parquet']) AS __t
WHERE
  NOT "order_id" IS NULL AND NOT "line" IS NULL
GROUP BY
  "order_id",
  "line"
HAVING
  COUNT(*) > 1
ORDER BY
  duplicates DESC
LIMIT 20;
