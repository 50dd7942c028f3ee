"""The household-relationship graph: the local Neo4j server, the driver, schema and queries.

`graph` imports only `authz` (never `hub` or `connectors`), so everything it needs
arrives as explicit arguments rather than through the hub's settings object.
"""
