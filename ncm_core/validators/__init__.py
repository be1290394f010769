"""Validators: checks over the migration set and its history, built in and from plugins."""
