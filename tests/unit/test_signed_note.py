"""C2SP signed notes against the published vectors, and checkpoints."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from member_api.provenance import note

# The example of golang.org/x/mod/sumdb/note, whose format C2SP signed-note specifies.
PRIVATE = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
SIGNED = (
    TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZ"
    "SNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
# The example of the C2SP signed-note specification (verification only).
SPEC_VERIFIER = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6Tf"
    "Xppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)


def _peter() -> Ed25519PrivateKey:
    raw = base64.b64decode(PRIVATE.split("+", 4)[4])
    assert raw[0] == 1
    return Ed25519PrivateKey.from_private_bytes(raw[1:])


def test_signing_reproduces_the_published_note_and_key() -> None:
    key = _peter()
    assert note.sign(TEXT, "PeterNeumann", key) == SIGNED
    assert note.verifier_key("PeterNeumann", note.raw_public_key(key)) == VERIFIER
    assert note.open_note(SIGNED, note.Verifier.parse(VERIFIER)) == TEXT


def test_the_specification_example_verifies() -> None:
    verifier = note.Verifier.parse(SPEC_VERIFIER)
    assert note.open_note(SPEC_NOTE, verifier) == "This is an example message.\n"


@pytest.mark.parametrize(
    "forged",
    [
        SIGNED.replace("cryptography", "cryptographY"),
        SIGNED.replace("x08go", "x08gp"),
        SIGNED.replace("PeterNeumann x", "PeterNeuman x"),
        TEXT,
        SPEC_NOTE,
    ],
)
def test_forgeries_fail(forged: str) -> None:
    with pytest.raises(note.NoteError):
        note.open_note(forged, note.Verifier.parse(VERIFIER))


@pytest.mark.parametrize(
    "bad_key",
    [VERIFIER.replace("c74f20a3", "c74f20a4"), VERIFIER[:-4], "PeterNeumann", "a+b+c"],
)
def test_malformed_verifier_keys_are_refused(bad_key: str) -> None:
    with pytest.raises(note.NoteError):
        note.Verifier.parse(bad_key)


def test_checkpoint_body_round_trips() -> None:
    body = note.Checkpoint("example.com/log", 12, bytes(range(32))).body()
    assert body == "example.com/log\n12\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
    assert note.Checkpoint.parse(body) == note.Checkpoint("example.com/log", 12, bytes(range(32)))
    bad_sizes = ("example.com/log\n012\nAA==\n", "x\ny\nAA==\n", "x\n²\nAA==\n")
    for bad in (*bad_sizes, "only a line\n"):
        with pytest.raises(note.NoteError):
            note.Checkpoint.parse(bad)
