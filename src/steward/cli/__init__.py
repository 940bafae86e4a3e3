"""The ``steward`` command line: thin calls into :class:`steward.context.Context`."""
