"""dbt's ``state:modified``, against an environment instead of a saved manifest.

A product is ``new`` when the environment has no version of it, ``modified.body`` when
its own code (SQL, Python, data config: what its fingerprint hashes apart from its
inputs; for a source, its files too) differs from the code recorded for the version the
environment points at, and ``modified.configs`` when its declared metadata (checks,
description, owner, columns...) differs from what the environment last recorded.
``modified`` is any of the three. Changes upstream do not make a product modified;
``state:modified+`` adds what reads it, as in dbt.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from steward.run.changes import local_fingerprint

if TYPE_CHECKING:
    from steward.core.model import Project
    from steward.meta.reads import Reads


def product_states(reads: Reads, project: Project, env: str) -> dict[str, set[str]]:
    """Product -> its states against ``env`` (empty when unchanged)."""
    pointers = reads.pointer_ids(env)
    versions = reads.versions_by_id(pointers.values())
    records = reads.code_records({v.fingerprint for v in versions.values()})
    specs = reads.env_spec_map(env)
    out: dict[str, set[str]] = {}
    for name, p in project.products.items():
        states: set[str] = set()
        version = versions.get(pointers.get(name, ""))
        if version is None:
            states |= {"new", "modified"}
        else:
            rec = records.get(version.fingerprint)
            if rec is None or rec["local_fp"] != local_fingerprint(p, project):
                states |= {"modified.body", "modified"}
            spec = specs.get(name)
            if spec is None or spec[0] != p.metadata_fp:
                states |= {"modified.configs", "modified"}
        out[name] = states
    return out


def states_for(reads: Reads, project: Project, env: str) -> Callable[[str | None], Any]:
    """What ``state:`` selectors ask (:data:`steward.core.graph.States`): the states
    against ``env``, or against the environment a selector names; each computed once."""
    import functools

    @functools.cache
    def states(other: str | None) -> dict[str, set[str]]:
        return product_states(reads, project, other or env)

    return states
