"""Chapter 1's helpers (ann.py): reading a table, deciding about its columns, one customer."""
