"""Department connectors: consented pulls from public security, housing, tax, banking and
medical insurance. Imports `graph` and `authz`, never `hub`."""
