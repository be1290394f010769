"""The four migration types of the spec."""

from __future__ import annotations

from ncm_core.types.interface import MigrationKind


class Schema(MigrationKind):
    PLUGIN_NAME = "schema"
    summary = "tables, columns, constraints"


class Data(MigrationKind):
    PLUGIN_NAME = "data"
    summary = "transform rows in batches, validate, reverse"


class Index(MigrationKind):
    PLUGIN_NAME = "index"
    summary = "create, optimise and drop indexes"


class Seed(MigrationKind):
    PLUGIN_NAME = "seed"
    summary = "initial data, safe to run twice"
