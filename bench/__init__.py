"""`make bench`: every module `bench/bench_*.py` with a `run(ctx)` writes bench/results/<name>.json.

Each benchmark measures ours against a baseline in the same run and returns rows for the table.
"""
