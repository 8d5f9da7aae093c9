"""``python -m aebridge`` runs the command line."""

from .cli import main

main()
