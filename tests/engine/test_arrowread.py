"""A small version's schema named from its Arrow types is DuckDB's own DESCRIBE."""

from pathlib import Path

import duckdb
import pytest

from steward.engine.arrowread import arrow_schema_names, read_small

# every type DuckDB writes to Parquet, as a one-row value (NULL-able)
VALUES = {
    "ti": "1::TINYINT", "si": "1::SMALLINT", "i": "1::INTEGER", "bi": "1::BIGINT",
    "ut": "1::UTINYINT", "us": "1::USMALLINT", "ui": "1::UINTEGER", "ub": "1::UBIGINT",
    "hi": "1::HUGEINT", "uh": "1::UHUGEINT", "f": "1::FLOAT", "dbl": "1::DOUBLE",
    "dec": "1::DECIMAL(12,2)", "dec38": "1::DECIMAL(38,4)", "dec4": "1::DECIMAL(4,1)",
    "v": "'a'", "b": "true", "dt": "DATE '2024-01-01'", "ts": "TIMESTAMP '2024-01-01'",
    "tss": "TIMESTAMP_S '2024-01-01'", "tsms": "TIMESTAMP_MS '2024-01-01'",
    "tsns": "TIMESTAMP_NS '2024-01-01'", "tz": "TIMESTAMPTZ '2024-01-01 00:00:00+00'",
    "tm": "TIME '01:02:03'", "tmtz": "TIMETZ '01:02:03+00'", "iv": "INTERVAL 1 DAY",
    "uu": "uuid()", "js": "'{}'::JSON", "en": "'a'::ENUM('a', 'b')", "bl": "'a'::BLOB",
    "bit": "'101'::BIT", "l": "[1, 2]", "st": "{'a': 1}", "m": "MAP {'a': 1}",
    "arr": "[1, 2]::INTEGER[2]", "null_only": "NULL",
}


@pytest.mark.parametrize("name", sorted(VALUES))
def test_a_named_schema_is_what_duckdb_describes(tmp_path: Path, name: str) -> None:
    con = duckdb.connect()
    f = str(tmp_path / "v.parquet")
    con.execute(f"COPY (SELECT {VALUES[name]} AS c, 1::BIGINT AS id FROM range(3)) "
                f"TO '{f}' (FORMAT parquet)")
    described = [(str(r[0]), str(r[1])) for r in
                 con.execute(f"DESCRIBE SELECT * FROM read_parquet(['{f}'])").fetchall()]
    table = read_small([f], 10)
    assert table is not None and table.num_rows == 3
    named = arrow_schema_names(table)
    # either exactly DuckDB's names, or none (then the engine asks DuckDB)
    assert named is None or named == described, (named, described)


def test_the_common_types_are_named_without_duckdb(tmp_path: Path) -> None:
    con = duckdb.connect()
    f = str(tmp_path / "v.parquet")
    cols = ", ".join(f"{VALUES[k]} AS {k}" for k in
                     ("i", "bi", "dbl", "dec", "v", "b", "dt", "ts", "tz"))
    con.execute(f"COPY (SELECT {cols}) TO '{f}' (FORMAT parquet)")
    table = read_small([f], 10)
    assert arrow_schema_names(table) is not None


def test_a_large_version_is_not_read(tmp_path: Path) -> None:
    f = str(tmp_path / "v.parquet")
    duckdb.connect().execute(f"COPY (SELECT range AS id FROM range(50)) TO '{f}' "
                             "(FORMAT parquet)")
    assert read_small([f], 49) is None
    assert read_small([f], 50) is not None


def test_a_build_names_its_schema_and_hands_its_rows_on(tmp_path: Path) -> None:
    """The engine's result for a small SQL product: DuckDB's names, and the table."""
    from steward.core.model import Product
    from steward.core.spec import EngineSpec, SqlProductSpec
    from steward.engine.duckdb import DuckDBEngine

    engine = DuckDBEngine(EngineSpec(), str(tmp_path))
    code = ("SELECT range AS id, range * 1.5 AS x, (range * 1.5)::DECIMAL(12,2) AS d, "
            "'g' || range AS s, [range] AS l FROM range(5)")
    p = Product(name="m.p", kind="sql", file="m/p.sql", line=1, code=code,
                spec=SqlProductSpec())
    out = tmp_path / "v"
    (out / "data").mkdir(parents=True)
    result = engine.build(p, {}, str(out))
    want = engine.describe(list(result.files))
    assert result.schema == want and result.rows == 5
    assert result.table is not None and result.table.num_rows == 5


@pytest.mark.parametrize("name", sorted(VALUES))
def test_a_file_read_into_memory_gives_the_same_table(tmp_path: Path, name: str) -> None:
    """read_small_file (the bytes read once, parsed from memory) is read_small, and the
    bytes are the file's."""
    from steward.engine.arrowread import read_small_file

    f = str(tmp_path / "v.parquet")
    duckdb.connect().execute(f"COPY (SELECT {VALUES[name]} AS c, range AS id "
                             f"FROM range(20)) TO '{f}' (FORMAT parquet)")
    table, raw = read_small_file(f, 20)
    assert table is not None and table.equals(read_small([f], 20))
    assert raw is not None and raw.data == Path(f).read_bytes()
    assert raw.key[0] == len(raw.data)  # (stat_key: size first)
    assert read_small_file(f, 19)[0] is None  # (20 rows in the footer: no table)
    assert read_small_file(f, 10, rows=20) == (None, None)  # (known too many: not read)


def test_a_damaged_file_read_into_memory_gives_no_table(tmp_path: Path) -> None:
    from steward.engine.arrowread import read_small_file

    f = tmp_path / "v.parquet"
    f.write_bytes(b"PAR1 not a parquet file PAR1")
    table, raw = read_small_file(str(f), 10)
    assert table is None and raw is not None and raw.data == f.read_bytes()
    assert read_small_file(str(tmp_path / "missing.parquet"), 10) == (None, None)


def test_a_build_hands_on_the_bytes_it_read_back(tmp_path: Path) -> None:
    from steward.core.model import Product
    from steward.core.spec import EngineSpec, SqlProductSpec
    from steward.engine.duckdb import DuckDBEngine

    engine = DuckDBEngine(EngineSpec(), str(tmp_path))
    p = Product(name="m.p", kind="sql", file="m/p.sql", line=1,
                code="SELECT range AS id FROM range(5)", spec=SqlProductSpec())
    out = tmp_path / "v"
    (out / "data").mkdir(parents=True)
    result = engine.build(p, {}, str(out))
    (f,) = result.files
    assert result.raw is not None and result.raw.path == f
    assert result.raw.data == Path(f).read_bytes()


def test_a_file_read_into_memory_leaves_pyarrow_parquet_unimported(tmp_path: Path) -> None:
    """pyarrow.parquet imports pyarrow's file systems (S3's among them): 4-6 MB of a run's
    peak RSS, for bytes already in memory."""
    import subprocess
    import sys

    f = str(tmp_path / "v.parquet")
    duckdb.connect().execute(f"COPY (SELECT range AS id, 'a' AS s FROM range(5)) TO '{f}' "
                             "(FORMAT parquet)")
    code = ("import sys\nfrom steward.engine.arrowread import read_small_file\n"
            f"table, raw = read_small_file({f!r}, 10)\n"
            "print(table.num_rows, 'pyarrow.parquet' in sys.modules, "
            "'pyarrow._s3fs' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["5", "False", "False"]


def test_without_pyarrows_own_reader_the_public_one_reads(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    import pyarrow.parquet  # noqa: F401  (imported before the private module is hidden)

    from steward.engine.arrowread import read_small_file

    f = str(tmp_path / "v.parquet")
    duckdb.connect().execute(f"COPY (SELECT {VALUES['uu']} AS u, {VALUES['dec']} AS d "
                             f"FROM range(4)) TO '{f}' (FORMAT parquet)")
    want, _ = read_small_file(f, 10)
    monkeypatch.setitem(sys.modules, "pyarrow._parquet", None)  # import raises ImportError
    got, raw = read_small_file(f, 10)
    assert want is not None and got is not None and got.equals(want)
    assert raw is not None and raw.data == Path(f).read_bytes()
