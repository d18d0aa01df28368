"""`python -m camsweep` is the `camsweep` command."""

from camsweep.cli.app import main

main()
