"""The benchmark kit: speed, memory and the public data sets, run from a checkout.

Not installed with meditron-rag: it reads the checkout (corpora/starter, ../shared/data) and
writes docs/. Run it from the repository root as `python -m bench PART` (bench/cli.py).
"""
