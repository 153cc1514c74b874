"""``python -m alignlab`` (and ``accelerate launch -m alignlab train …``) runs the CLI."""

from alignlab.cli.main import main

main()
