"""`python -m ui` runs the `meditron-rag` command."""

from ui.cli import main

main()
