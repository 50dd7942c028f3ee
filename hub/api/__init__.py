"""The GraphQL API: schema, per-request context, loaders and the field-group guard."""
