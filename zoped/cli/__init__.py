"""The ``zoped`` command line: thin Typer wrappers over services and the engine.

Each command group lives in its own module with a ``register(app)`` function. A user error
(:class:`zoped.errors.ZopedError`) prints one clear line and exits non-zero, never a traceback.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from zoped import __version__
from zoped.cli import (
    audit,
    case,
    course,
    credentials,
    db,
    demo,
    evaluate,
    exports,
    imports,
    models,
    privacy,
    replay,
    school,
    simulate,
)
from zoped.errors import InvalidInput, ZopedError

app = typer.Typer(
    name="zoped",
    help="zoped: open personalized learning. Run the demo school, manage courses, "
    "evaluate learner models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
err_console = Console(stderr=True)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"zoped {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Print the version."
    ),
) -> None:
    """zoped: open personalized learning."""


for module in (
    demo,
    db,
    course,
    imports,
    evaluate,
    simulate,
    models,
    replay,
    credentials,
    school,
    privacy,
    audit,
    case,
    exports,
):
    module.register(app)


def main() -> None:
    """Entry point: run the app, turning zoped's own errors into one line and exit code 2."""
    try:
        app()
    except ZopedError as error:
        message = error.message if isinstance(error, InvalidInput) else str(error)
        err_console.print(f"[bold red]error:[/] {message}", highlight=False)
        if isinstance(error, InvalidInput):
            for problem in error.problems:
                err_console.print(f"  - {problem}", highlight=False, markup=False)
        sys.exit(2)
