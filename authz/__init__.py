"""Pure security logic (tokens, policy decisions, consent decisions, field crypto).

Imports none of the hub's other packages: records are handed to it to decide on."""
