"""Customer care: finding members, the member 360 view, care notes."""
