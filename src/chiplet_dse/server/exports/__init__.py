"""Zip exports of runs, comparative studies and groups of runs (see services)."""
