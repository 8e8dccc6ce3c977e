"""Processes of jobs: how they start (with or without a shell), which are whose, and killing
what a dead worker left behind."""
