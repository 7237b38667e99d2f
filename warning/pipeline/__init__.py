"""The dataflow: ingest, parse, per-sensor evaluation, lifecycle, no-data; ``flow`` wires them."""
