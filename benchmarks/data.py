"""The shared benchmark table: 2,000,000 rows x 12 columns of mixed types, as Parquet.

Written by DuckDB with a fixed seed, so every benchmark (checks, profiles) measures the
same data: integers, floats with nulls, NaN and infinities, a decimal, low-, mid- and
high-cardinality strings, a timestamp, a timestamp with time zone, a date and a boolean.

    python benchmarks/data.py benchmarks/_work/table_2m.parquet [--rows N] [--shift X]
"""

from __future__ import annotations

import argparse
import os

ROWS = 2_000_000
COLUMNS = 12


def select_sql(rows: int = ROWS, shift: float = 0.0) -> str:
    """The SELECT producing the table; ``shift`` moves the numeric distributions (drift)."""
    return f"""
    SELECT
      range AS id,
      (hash(range) % 1000)::INTEGER AS qty,
      CASE WHEN hash(range * 7) % 50 = 0 THEN NULL
           WHEN hash(range * 7) % 5000 = 1 THEN 'nan'::DOUBLE
           WHEN hash(range * 7) % 5000 = 2 THEN 'inf'::DOUBLE
           ELSE (hash(range * 3) % 100000) / 1000.0 + {shift} END AS price,
      {shift} + sqrt(-2 * ln(random())) * cos(2 * pi() * random()) AS score,
      ((hash(range * 11) % 1000000) / 100.0)::DECIMAL(12, 2) AS amount,
      ['NL', 'DE', 'FR', 'BE', 'US', 'GB', 'ES', 'IT'][1 + (hash(range * 13) % 8)::INTEGER]
        AS country,
      'customer_' || (hash(range * 17) % 50000)::VARCHAR AS customer,
      md5(range::VARCHAR) AS token,
      TIMESTAMP '2025-01-01' + to_seconds((hash(range * 19) % 31536000)::BIGINT) AS created_at,
      TIMESTAMPTZ '2025-01-01 00:00:00+00' + to_seconds(range) AS event_at,
      DATE '2020-01-01' + (hash(range * 23) % 2000)::INTEGER AS day,
      hash(range * 29) % 3 = 0 AS flag
    FROM range({rows})
    """


def generate(path: str, rows: int = ROWS, shift: float = 0.0) -> str:
    """Write the table to ``path`` (once; an existing file of the same rows is kept)."""
    import duckdb

    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    if os.path.exists(path):
        return path
    con = duckdb.connect()
    con.execute("SELECT setseed(0.5)")
    tmp = path + ".tmp"
    con.execute(f"COPY ({select_sql(rows, shift)}) TO '{tmp}' "
                "(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)")
    os.replace(tmp, path)
    return path


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path")
    ap.add_argument("--rows", type=int, default=ROWS)
    ap.add_argument("--shift", type=float, default=0.0)
    a = ap.parse_args()
    print(generate(a.path, a.rows, a.shift))
