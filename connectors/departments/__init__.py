"""One module per department; each is short because `connectors.base` does the work."""
