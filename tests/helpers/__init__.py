"""Test helpers: paths, generated corpora, and the local fake Discord with its harness."""
