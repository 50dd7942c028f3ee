"""The verification hub's composition root: settings, web app, GraphQL schema and CLI."""
