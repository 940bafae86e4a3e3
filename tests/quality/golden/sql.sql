-- check: {'type': 'sql', 'query': "SELECT * FROM {{ this }} WHERE amount < 0 AND status = 'paid'"}
-- query
SELECT
  COUNT(*)
FROM (
  SELECT
    *
  FROM READ_PARQUET(['/store/orders/v1/data/part-0.parquet', '/store/orders/v1/data/part-1.parquet']) AS __steward_this__
  WHERE
    amount < 0 AND status = 'paid'
) AS __q;
-- sample
SELECT
  *
FROM (
  SELECT
    *
  FROM READ_PARQUET(['/store/orders/v1/data/part-0.parquet', '/store/orders/v1/data/part-1.parquet']) AS __steward_this__
  WHERE
    amount < 0 AND status = 'paid'
) AS __q
LIMIT 20;
