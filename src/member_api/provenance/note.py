"""C2SP signed notes (Ed25519) and the tlog-checkpoint body they carry.

A note is UTF-8 text ending in a newline, a blank line, then one signature line per
signer: an em dash, a space, the key name, a space, and base64 of the 4-byte key id
followed by the signature. The key id is the first 4 bytes of SHA-256 over the key
name, a newline, the signature type 0x01 and the 32-byte public key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = b"\x01"
_DASH = "\u2014 "


class NoteError(ValueError):
    """A note, key or checkpoint that does not verify or does not parse."""


def raw_public_key(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _check_name(name: str) -> None:
    if not name or any(c.isspace() for c in name) or "+" in name:
        raise NoteError("a key name has no spaces, newlines or '+'")


def key_id(name: str, public_key: bytes) -> bytes:
    _check_name(name)
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public_key).digest()[:4]


def verifier_key(name: str, public_key: bytes) -> str:
    """The text form others verify with: name+hex key id+base64(type and key)."""
    encoded = base64.b64encode(ED25519 + public_key).decode()
    return f"{name}+{key_id(name, public_key).hex()}+{encoded}"


@dataclass(frozen=True)
class Verifier:
    name: str
    key_id: bytes
    public_key: bytes

    @classmethod
    def parse(cls, text: str) -> Verifier:
        parts = text.strip().split("+", 2)
        if len(parts) != 3 or len(parts[1]) != 8:
            raise NoteError("a verifier key reads name+keyid+base64")
        name, hex_id, encoded = parts
        try:
            raw = base64.b64decode(encoded, validate=True)
            wanted_id = bytes.fromhex(hex_id)
        except (binascii.Error, ValueError) as exc:
            raise NoteError("the verifier key is not well formed") from exc
        if len(raw) != 33 or raw[:1] != ED25519:
            raise NoteError("only Ed25519 verifier keys are supported")
        if key_id(name, raw[1:]) != wanted_id:
            raise NoteError("the verifier key's id does not match its key")
        return cls(name, wanted_id, raw[1:])


def sign(text: str, name: str, key: Ed25519PrivateKey) -> str:
    if not text.endswith("\n"):
        raise NoteError("a note's text ends with a newline")
    signature = key.sign(text.encode())
    blob = base64.b64encode(key_id(name, raw_public_key(key)) + signature).decode()
    return f"{text}\n{_DASH}{name} {blob}\n"


def open_note(note: str, verifier: Verifier) -> str:
    """The note's text, if `verifier` signed it; NoteError otherwise."""
    text, sep, signatures = note.rpartition("\n\n")
    if not sep or not signatures.endswith("\n"):
        raise NoteError("not a signed note")
    text += "\n"
    for line in signatures[:-1].split("\n"):
        if not line.startswith(_DASH):
            raise NoteError("a signature line starts with an em dash")
        name, _, encoded = line[len(_DASH) :].partition(" ")
        try:
            blob = base64.b64decode(encoded, validate=True)
        except binascii.Error as exc:
            raise NoteError("a signature is not base64") from exc
        if name != verifier.name or blob[:4] != verifier.key_id or len(blob) != 68:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(verifier.public_key).verify(blob[4:], text.encode())
        except InvalidSignature as exc:
            raise NoteError("the signature does not verify") from exc
        return text
    raise NoteError(f"no signature by {verifier.name}")


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def body(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or not lines[0] or not (lines[1].isascii() and lines[1].isdigit()):
            raise NoteError("a checkpoint reads origin, size and root hash, one per line")
        if lines[1] != str(int(lines[1])):
            raise NoteError("a checkpoint's size has no leading zeros")
        try:
            root = base64.b64decode(lines[2], validate=True)
        except binascii.Error as exc:
            raise NoteError("a checkpoint's root hash is base64") from exc
        if len(root) != 32:
            raise NoteError("a checkpoint's root hash is 32 bytes")
        return cls(lines[0], int(lines[1]), root)
