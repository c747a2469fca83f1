"""What the host app hears back: events recorded with their change, delivered as signed webhooks.

* `catalogue`: every event type, its version and its payload (msgspec Structs, also in OpenAPI).
* `records`: events built from the rows they describe, at the places the engine changes them.
* `outbox`: the outbox table's writer (inside the caller's transaction) and the events feed.
* `endpoints`, `secrets`, `destinations`, `schedule`, `delivery`: webhook endpoints and their
  signed, ordered, retried deliveries (a `deliver_webhooks` run per endpoint).

Callers record events through `JobTransaction.emit` (`ledgerbridge.jobs`) so an event commits,
or rolls back, with the change it describes, and its deliveries are queued once it has committed.
"""
