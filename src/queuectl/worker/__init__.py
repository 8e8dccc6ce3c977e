"""A worker process: its loop, slots, housekeeping, hooks, and how it is started and steered."""
