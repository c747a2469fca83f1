"""The end-to-end suite is the kit's conformance suite (`ledgerbridge_testing.conformance`); the
modules here run its cases for this repository's bundled providers, and `test_bench_sync` adds the
repository's benchmark script. `provider` is parametrized by the kit's plugin for every case marked
`conformance`: every installed provider with a sandbox, or those named by `--lb-provider`."""
