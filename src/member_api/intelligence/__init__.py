"""Member intelligence: scores and tags computed from what members did."""
