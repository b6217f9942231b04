"""Harvest human feedback on LLM bot comments from GitHub into Parquet, DuckDB and training sets."""

__version__ = "0.1.0"
