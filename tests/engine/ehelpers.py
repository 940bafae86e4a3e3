"""Helpers for the engine conformance suite."""

from __future__ import annotations

from pathlib import Path

SPARK_YAML = ('engine: {type: spark, master: "local[2]", conf: {spark.sql.shuffle.partitions: 2, '
              'spark.ui.enabled: false, spark.default.parallelism: 2}}\n')
ENGINE_YAML = {"duckdb": "engine: {type: duckdb}\n", "spark": SPARK_YAML}



def use_engine(root: Path, engine: str) -> None:
    """Make the project at ``root`` run on ``engine`` (its ``engine:`` block replaced)."""
    path = root / "steward.yaml"
    kept: list[str] = []
    inside = False
    for line in path.read_text().splitlines(keepends=True):
        if line.lstrip("# ").startswith("engine:"):
            inside = not line.startswith("#")
            continue
        if inside and line.startswith((" ", "\t")):
            continue
        inside = False
        kept.append(line)
    path.write_text("".join(kept).rstrip("\n") + "\n" + ENGINE_YAML[engine])
