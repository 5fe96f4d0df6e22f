"""``python -m motcua``: the same command line as ``motcua``."""
from motcua.cli import main

main()
