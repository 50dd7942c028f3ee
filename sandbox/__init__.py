"""A world apart: the synthetic city of Xinxiang and five department servers standing in for
the real departments. Imports none of hub/connectors/graph/authz; the hub reaches it only over
HTTP, like a real department."""
