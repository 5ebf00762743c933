"""Benchmark tooling: a fast loader of realistic article corpora (`bench.corpus`)."""
