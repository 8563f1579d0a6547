"""The slides' data checklist as code: duplicates, train/test leaks, label sanity, shard integrity."""
