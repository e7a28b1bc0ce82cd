"""`muhafiz demo`: set up a demo installation with synthetic data and serve it."""

from __future__ import annotations

import os

import click

from muhafiz.core.cli import call, start_checks

DEBUG_ENV = "MUHAFIZ_DEBUG"


def demo_debug(flag: bool) -> str:
    """The MUHAFIZ_DEBUG the demo runs with: off (the platform's own error pages, no
    tracebacks) unless `--debug` is given or MUHAFIZ_DEBUG is set."""
    if flag:
        return "true"
    return os.environ.get(DEBUG_ENV, "false")


@click.command()
@click.option("--addr", default="127.0.0.1:8000", show_default=True)
@click.option("--no-serve", is_flag=True, help="Set up and seed the demo, then exit.")
@click.option(
    "--debug",
    is_flag=True,
    help="Serve with Django's debug pages (tracebacks); off unless given or MUHAFIZ_DEBUG=1.",
)
def demo(addr: str, no_serve: bool, debug: bool) -> None:
    """Set up a demo installation with synthetic data and serve it."""
    # Settings read the environment once, when Django starts: decide before that.
    os.environ[DEBUG_ENV] = demo_debug(debug)
    start_checks()
    call("seed_demo")
    if not no_serve:
        click.echo(f"Serving Muhafiz at http://{addr}/  (Ctrl-C to stop)")
        # With DEBUG off the development server serves no static files; WhiteNoise does.
        call("runserver", "--noreload", addr)
