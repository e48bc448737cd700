"""Shared runtime of the NRN services."""
