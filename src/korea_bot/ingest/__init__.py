"""Ingest: find source files, read each into a Document, cut Documents into quotable sentence windows."""
