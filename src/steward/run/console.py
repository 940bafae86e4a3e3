"""What the executor tells whoever is watching. The CLI supplies Rich, plain or JSON."""

from __future__ import annotations

from typing import Any, Protocol


class Console(Protocol):
    def run_started(self, run_id: str, env: str, total: int, to_build: int) -> None: ...

    def step_started(self, product: str) -> None: ...

    def step_finished(self, product: str, status: str, info: dict[str, Any]) -> None: ...

    def run_finished(self, result: Any) -> None: ...

    def message(self, text: str, level: str = "info") -> None: ...


class NullConsole:
    """Says nothing: for the Python API and tests."""

    def run_started(self, run_id: str, env: str, total: int, to_build: int) -> None:
        pass

    def step_started(self, product: str) -> None:
        pass

    def step_finished(self, product: str, status: str, info: dict[str, Any]) -> None:
        pass

    def run_finished(self, result: Any) -> None:
        pass

    def message(self, text: str, level: str = "info") -> None:
        pass
