"""A version's Spark schema read from its Parquet footers, so that reading it starts no job.

``spark.read.parquet(files)`` infers the schema with a Spark job (one task reading a
footer); in local mode that job costs a few hundred milliseconds, once per input of every
product built. The footers are on the machine that runs Steward (the store is local, or
a shared mount the executors read under the same paths), so :func:`parquet_schema` reads
them with pyarrow and gives Spark the schema it would have inferred. Only types whose
Spark equal is certain are mapped (Spark's own inference decides the rest, as before),
and files whose schemas differ are left to Spark too; ``tests/engine/test_spark_engine.py``
compares the mapping with Spark's inference type by type.
"""

from __future__ import annotations

from typing import Any


def parquet_schema(files: list[str]) -> Any | None:
    """The ``StructType`` Spark infers for ``files``, or None when Spark must infer it
    (a type without a certain equal, files with different schemas, a file not readable
    here)."""
    if not files:
        return None
    import pyarrow.parquet as pq

    try:
        schemas = [pq.read_schema(f) for f in files]
    except Exception:  # not on this machine (a remote store or server): Spark reads it
        return None
    first = schemas[0]
    if any(not s.equals(first) for s in schemas[1:]):
        return None
    from pyspark.sql.types import StructField, StructType

    fields = []
    for f in first:
        t = spark_type(f.type)
        if t is None:
            return None
        fields.append(StructField(f.name, t, True))
    if len({f.name for f in fields}) != len(fields):
        return None
    return StructType(fields)


def spark_type(at: Any) -> Any | None:
    """The Spark type Spark's Parquet reader gives a column that pyarrow reads as ``at``,
    or None when not certain."""
    import pyarrow as pa
    import pyarrow.types as pt
    from pyspark.sql import types as st

    simple = {pa.bool_(): st.BooleanType(), pa.int8(): st.ByteType(),
              pa.int16(): st.ShortType(), pa.int32(): st.IntegerType(),
              pa.int64(): st.LongType(), pa.float32(): st.FloatType(),
              pa.float64(): st.DoubleType(), pa.string(): st.StringType(),
              pa.large_string(): st.StringType(), pa.date32(): st.DateType()}
    if at in simple:
        return simple[at]
    if pt.is_decimal128(at) and at.precision <= 38:
        return st.DecimalType(at.precision, at.scale)
    if pt.is_timestamp(at) and at.unit == "us":
        # isAdjustedToUTC=false (DuckDB's TIMESTAMP): TIMESTAMP_NTZ; true: TIMESTAMP
        return st.TimestampNTZType() if at.tz is None else st.TimestampType()
    if pt.is_list(at) or pt.is_large_list(at):
        element = spark_type(at.value_type)
        return None if element is None else st.ArrayType(element, True)
    if pt.is_struct(at):
        fields = []
        for i in range(at.num_fields):
            child = at.field(i)
            t = spark_type(child.type)
            if t is None:
                return None
            fields.append(st.StructField(child.name, t, True))
        return st.StructType(fields)
    if pt.is_map(at):
        key, value = spark_type(at.key_type), spark_type(at.item_type)
        return None if key is None or value is None else st.MapType(key, value, True)
    return None
