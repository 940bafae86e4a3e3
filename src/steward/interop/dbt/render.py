"""dbt's Jinja, rendered with jinja2 (see :mod:`steward.project.jinja`, which a Steward
project's own ``macros/`` folder also renders with)."""

from steward.project.jinja import Relation, Renderer, RenderError, docs_blocks

__all__ = ["Relation", "RenderError", "Renderer", "docs_blocks"]
