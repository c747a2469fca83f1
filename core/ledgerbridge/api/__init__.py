"""What every REST API controller shares: error types, paging, decoding, scoping and output types.

The router that mounts the controllers is `ledgerbridge.api.router`; the rules live in each
domain's services (`ledgerbridge.domain.<name>.services`).
"""
