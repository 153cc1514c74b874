"""``python -m alignlab`` runs the CLI."""

from alignlab.cli.main import main

main()
