"""Progress bars for the generators: one rich bar per stage, or none when disabled."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


@contextmanager
def progress_bars(enabled: bool) -> Iterator[Progress]:
    """A rich Progress that draws nothing when ``enabled`` is false."""
    columns = (
        TextColumn("[bold]{task.description:<22}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, disable=not enabled) as prog:
        yield prog


def stepper(prog: Progress, name: str, total: int) -> Callable[[], None]:
    """A bar of ``total`` steps and the function that advances it by one."""
    task = prog.add_task(name, total=total)
    return lambda: prog.advance(task)
