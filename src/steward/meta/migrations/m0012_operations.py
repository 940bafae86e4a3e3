"""Operations: freshness samples (a time series per product and environment), alerts
(one row per open or resolved condition) and their deliveries, and scheduled fires."""

from __future__ import annotations

import sqlalchemy as sa


def upgrade(conn: sa.Connection) -> None:
    from steward.meta.ops import md

    md.create_all(conn)
