"""`python -m harvester` is the `harvester` command."""

from harvester.cli import app

app(prog_name="harvester")
