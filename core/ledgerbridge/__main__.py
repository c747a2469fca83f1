"""`python -m ledgerbridge` is the `ledgerbridge` command."""

from ledgerbridge.cli import main

main()
