"""Splits are deterministic: the same rows form the holdout whatever their order."""

from __future__ import annotations

import pytest

from steward.core.errors import BuildError
from steward.ml.split import holdout_mask


def frame(n: int = 1000):
    import pandas as pd

    return pd.DataFrame({"id": [f"k{i}" for i in range(n)], "x": range(n),
                         "day": pd.date_range("2024-01-01", periods=n, freq="h"),
                         "fold": [i % 5 for i in range(n)]})


def test_hash_split_is_stable_and_close_to_its_fraction():
    import pandas as pd

    df = frame()
    split = {"by": "hash", "key": ["id"], "test_fraction": 0.2}
    a = set(df[holdout_mask(df, split, "m")]["id"])
    shuffled = df.sample(frac=1.0, random_state=3).reset_index(drop=True)
    b = set(shuffled[holdout_mask(shuffled, split, "m")]["id"])
    assert a == b
    assert 150 < len(a) < 250
    # a row added later does not move the others
    more = pd.concat([df, frame(1100).iloc[1000:]]).reset_index(drop=True)
    c = set(more[holdout_mask(more, split, "m")]["id"])
    assert a <= c


def test_column_split_takes_the_named_values():
    df = frame()
    mask = holdout_mask(df, {"by": "column", "column": "fold", "test_values": [0]}, "m")
    assert mask.sum() == 200 and set(df[mask]["fold"]) == {0}


def test_time_split_by_date_or_by_latest_fraction():
    import pandas as pd

    df = frame()
    after = holdout_mask(df, {"by": "time", "column": "day", "test_after": "2024-02-01",
                              "test_fraction": None}, "m")
    assert (df[after]["day"] > pd.Timestamp("2024-02-01")).all()
    assert after.sum() == len(df[df["day"] > pd.Timestamp("2024-02-01")])
    latest = holdout_mask(df, {"by": "time", "column": "day", "test_after": None,
                               "test_fraction": 0.1}, "m")
    assert latest.sum() == 100 and df[latest]["x"].min() == 900


def test_time_split_with_a_date_that_does_not_compare_is_a_build_error():
    df = frame()
    with pytest.raises(BuildError, match="split.test_after 'soon'"):
        holdout_mask(df, {"by": "time", "column": "day", "test_after": "soon"}, "m")
