"""Run `python -m arena` as `arena`."""

from arena.cli import main

main()
