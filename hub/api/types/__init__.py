"""GraphQL object types, one module per area (households, finances, cases, assistance)."""
