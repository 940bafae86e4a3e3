"""Train/holdout splits that are the same in every run: by a column's value, by time, or
by a stable hash of a key. There is no random split: a model's holdout never changes
unless its declaration or its data does."""

from __future__ import annotations

from typing import Any

from steward.core.errors import BuildError

# buckets a key hash falls into; the lowest test_fraction of them are the holdout
_BUCKETS = 10_000


def holdout_mask(df: Any, split: dict[str, Any], who: str) -> Any:
    """A boolean numpy array: True for the holdout rows of the pandas frame ``df``."""
    import numpy as np
    import pandas as pd

    by = split["by"]
    if by == "hash":
        keys = df[list(split["key"])]
        # pandas' object hash is SipHash with a fixed key: stable across runs and machines
        h = pd.util.hash_pandas_object(keys, index=False).to_numpy()
        return (h % np.uint64(_BUCKETS)) < np.uint64(round(split["test_fraction"] * _BUCKETS))
    col = df[split["column"]]
    if by == "column":
        return col.isin(list(split["test_values"])).to_numpy()
    # by time
    if split.get("test_after") is not None:
        try:
            cut = pd.Timestamp(split["test_after"])
            values = pd.to_datetime(col)
            if values.dt.tz is not None and cut.tz is None:
                cut = cut.tz_localize(values.dt.tz)
        except (ValueError, TypeError) as e:
            raise BuildError(f"{who}: split.test_after {split['test_after']!r} cannot be "
                             f"compared with column {split['column']!r} ({e})") from None
        return (values > cut).fillna(False).to_numpy()
    order = col.rank(method="first", na_option="bottom").to_numpy()
    n_test = int(round(len(df) * split["test_fraction"]))
    return order > len(df) - n_test
