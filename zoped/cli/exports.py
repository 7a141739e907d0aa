"""The ``zoped export`` command group: write files from a zoped database.

Each format adds its command to :data:`export_app` from its own module (``zoped export case``
in :mod:`zoped.cli.case`); this module only registers the group.
"""

from __future__ import annotations

import typer

export_app = typer.Typer(help="Write files from a zoped database.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the ``export`` group to ``app``."""
    app.add_typer(export_app, name="export")
