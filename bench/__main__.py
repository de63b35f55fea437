"""`python -m bench` runs the benchmark kit's commands (bench/cli.py)."""

from bench.cli import main

main()
