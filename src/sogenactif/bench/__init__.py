"""`sogenactif bench`: reproducible throughput and latency figures for the Office Server.

The harness starts a real server, drives it with wrk (one connection per wrk thread, every
pre-generated sealed request used once), measures a no-database ceiling and the machine's
durable-write rate in the same run, and reports a table, a JSON file and a PNG plot.
See docs/benchmarks.md.
"""
