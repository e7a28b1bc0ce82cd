"""`muhafiz demo`: set up a demo installation with synthetic data and serve it."""

from __future__ import annotations

import click

from muhafiz.core.server_cli import call, start_checks


@click.command()
@click.option("--addr", default="127.0.0.1:8000", show_default=True)
@click.option("--no-serve", is_flag=True, help="Set up and seed the demo, then exit.")
def demo(addr: str, no_serve: bool) -> None:
    """Set up a demo installation with synthetic data and serve it."""
    start_checks()
    call("seed_demo")
    if not no_serve:
        click.echo(f"Serving Muhafiz at http://{addr}/  (Ctrl-C to stop)")
        call("runserver", "--noreload", addr)
