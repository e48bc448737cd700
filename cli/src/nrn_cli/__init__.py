"""The `nrn` command."""
