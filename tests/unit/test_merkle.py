"""The Merkle tree against RFC 6962's reference values, and proofs for every size to 64."""

from __future__ import annotations

import hashlib

import pytest

from member_api.provenance import merkle

# The leaves and roots of the Certificate Transparency reference tests.
LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
PATHS = {
    (0, 8): ["96a296d2", "5f083f0a", "6b47aaf2"],
    (5, 8): ["bc1a0643", "ca854ea1", "d37ee418"],
    (2, 3): ["fac54203"],
    (1, 5): ["6e340b9c", "5f083f0a", "bc1a0643"],
}
CONSISTENCY = {
    (1, 8): ["96a296d2", "5f083f0a", "6b47aaf2"],
    (6, 8): ["0ebc5d34", "ca854ea1", "d37ee418"],
    (2, 5): ["5f083f0a", "bc1a0643"],
}
HASHES = [merkle.leaf_hash(leaf) for leaf in LEAVES]


def short(proof: list[bytes]) -> list[str]:
    return [p.hex()[:8] for p in proof]


def test_empty_tree_and_reference_roots() -> None:
    assert merkle.root([]) == hashlib.sha256(b"").digest()
    for n, expected in enumerate(ROOTS, start=1):
        assert merkle.root(HASHES[:n]).hex() == expected


@pytest.mark.parametrize(("index", "size"), sorted(PATHS))
def test_reference_inclusion_proofs(index: int, size: int) -> None:
    proof = merkle.inclusion_proof(index, HASHES[:size])
    assert short(proof) == PATHS[(index, size)]
    root = bytes.fromhex(ROOTS[size - 1])
    assert merkle.verify_inclusion(index, size, HASHES[index], proof, root)


@pytest.mark.parametrize(("old", "new"), sorted(CONSISTENCY))
def test_reference_consistency_proofs(old: int, new: int) -> None:
    proof = merkle.consistency_proof(old, HASHES[:new])
    assert short(proof) == CONSISTENCY[(old, new)]
    old_root, new_root = bytes.fromhex(ROOTS[old - 1]), bytes.fromhex(ROOTS[new - 1])
    assert merkle.verify_consistency(old, new, old_root, new_root, proof)


def _leaves(n: int) -> list[bytes]:
    return [merkle.leaf_hash(f"leaf {i}".encode()) for i in range(n)]


@pytest.mark.parametrize("size", range(1, 65))
def test_every_inclusion_proof_verifies_and_no_other_does(size: int) -> None:
    leaves = _leaves(size)
    root = merkle.root(leaves)
    for index in range(size):
        proof = merkle.inclusion_proof(index, leaves)
        assert merkle.verify_inclusion(index, size, leaves[index], proof, root)
        assert not merkle.verify_inclusion(index, size, merkle.leaf_hash(b"forged"), proof, root)
        if size > 1:
            other = (index + 1) % size
            assert not merkle.verify_inclusion(other, size, leaves[index], proof, root)
        if proof:
            flipped = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
            assert not merkle.verify_inclusion(index, size, leaves[index], flipped, root)
            assert not merkle.verify_inclusion(index, size, leaves[index], proof[:-1], root)
        assert not merkle.verify_inclusion(index, size, leaves[index], [*proof, root], root)


@pytest.mark.parametrize("size", range(1, 65))
def test_every_consistency_proof_verifies_and_a_rewrite_does_not(size: int) -> None:
    leaves = _leaves(size)
    root = merkle.root(leaves)
    for old in range(1, size + 1):
        old_root = merkle.root(leaves[:old])
        proof = merkle.consistency_proof(old, leaves)
        assert merkle.verify_consistency(old, size, old_root, root, proof)
        rewritten = merkle.root([merkle.leaf_hash(b"rewritten"), *leaves[1:old]])
        assert not merkle.verify_consistency(old, size, rewritten, root, proof)
        if old < size:
            assert not merkle.verify_consistency(old, size, old_root, root, proof[:-1])


def test_out_of_range_requests_are_refused() -> None:
    with pytest.raises(ValueError, match="not in a tree of 3"):
        merkle.inclusion_proof(3, HASHES[:3])
    with pytest.raises(ValueError, match="no consistency proof"):
        merkle.consistency_proof(0, HASHES[:3])
    assert not merkle.verify_inclusion(3, 3, HASHES[0], [], merkle.root(HASHES[:3]))
    assert not merkle.verify_consistency(4, 3, b"", b"", [])


@pytest.mark.parametrize("size", range(1, 70))
def test_proofs_from_stored_subtrees_are_the_proofs_from_all_leaves(size: int) -> None:
    leaves = [merkle.leaf_hash(n.to_bytes(4, "big")) for n in range(size)]
    nodes = {
        (level, position): merkle.root(leaves[position << level : (position + 1) << level])
        for level in range(size.bit_length())
        for position in range(size >> level)
    }

    def built(ranges: list[tuple[int, int]]) -> list[bytes]:
        for start, end in ranges:  # every piece a range needs is a stored, perfect subtree
            assert all(piece in nodes for piece in merkle.pieces(start, end))
        return [merkle.range_root(start, end, nodes) for start, end in ranges]

    for index in range(size):
        assert built(merkle.inclusion_ranges(index, size)) == merkle.inclusion_proof(index, leaves)
    for old in range(1, size + 1):
        assert built(merkle.consistency_ranges(old, size)) == merkle.consistency_proof(old, leaves)
    # A proof needs O(log n) subtrees, however large the tree.
    assert len(merkle.inclusion_ranges(0, size)) <= size.bit_length()
    with pytest.raises(ValueError, match="is not in a tree"):
        merkle.inclusion_ranges(size, size)
    with pytest.raises(ValueError, match="no consistency proof"):
        merkle.consistency_ranges(0, size)
