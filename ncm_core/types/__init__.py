"""Migration types: schema, data, index and seed are built-in plugins of the same hook."""
