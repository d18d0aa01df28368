"""The `camsweep` command line: thin commands over library functions."""
