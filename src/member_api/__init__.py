"""member-api: the GraphQL backend of the member centre."""

__version__ = "0.1.0"
