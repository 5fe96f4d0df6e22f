"""The load test (``python -m bench.loadtest``): web processes and task workers against one PostgreSQL
under a burst of filings and staff actions; see bench/README.md and docs/capacity.md."""
