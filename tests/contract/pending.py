"""Client operations that do not validate against our schema yet.

Later work removes names from here as it lands; the list only ever shrinks.
A test fails when a listed operation starts to validate, so it cannot go stale.
"""

PENDING: frozenset[str] = frozenset(
    {
        # foryou.graphql: the paid membership
        "MyMembership",
    }
)
