"""Search: clean the question, gather candidates, score, fuse, collapse, check support, highlight."""
