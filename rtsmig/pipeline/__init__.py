"""Whole steps (read, compute, write) that commands and run files are made of."""
