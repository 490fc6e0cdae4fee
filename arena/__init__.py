"""Collusion Arena runtime: players, the match loop, storage and the command line."""
