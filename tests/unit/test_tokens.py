"""Access tokens: signature, key id, issuer, audience, lifetime; `alg: none` refused."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from member_api.auth.tokens import TokenService
from member_api.clock import FrozenClock
from member_api.errors import NotAuthenticated
from member_api.settings import Settings

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def make_service(clock: FrozenClock, key: Ed25519PrivateKey | None = None) -> TokenService:
    settings = Settings()
    return TokenService(
        signing_key=key or settings.signing_key,
        key_id=settings.signing_key_id,
        issuer="member-api",
        audiences={"member": "member-api:member", "staff": "member-api:staff"},
        ttl_seconds=900,
        clock=clock,
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _segments(token: str) -> list[str]:
    return token.split(".")


def _claims(token: str) -> dict[str, object]:
    payload = _segments(token)[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def test_roundtrip_and_lifetime_of_about_fifteen_minutes() -> None:
    clock = FrozenClock(NOW)
    tokens = make_service(clock)
    subject = uuid.uuid4()
    token = tokens.issue(subject, "member")
    claims = tokens.verify(token, "member")
    assert claims.subject_id == subject
    body = _claims(token)
    assert body["exp"] == body["iat"] + 900  # type: ignore[operator]
    assert jwt.get_unverified_header(token)["alg"] == "EdDSA"
    assert jwt.get_unverified_header(token)["kid"]


def test_expired_token_is_refused() -> None:
    clock = FrozenClock(NOW)
    tokens = make_service(clock)
    token = tokens.issue(uuid.uuid4(), "member")
    clock.advance(timedelta(seconds=899))
    tokens.verify(token, "member")
    clock.advance(timedelta(seconds=1))
    with pytest.raises(NotAuthenticated) as caught:
        tokens.verify(token, "member")
    assert caught.value.code == "TOKEN_EXPIRED"


def test_tampered_payload_is_refused() -> None:
    tokens = make_service(FrozenClock(NOW))
    token = tokens.issue(uuid.uuid4(), "member")
    header, _payload, signature = _segments(token)
    forged = dict(_claims(token), sub=str(uuid.uuid4()))
    tampered = ".".join([header, _b64(json.dumps(forged).encode()), signature])
    with pytest.raises(NotAuthenticated) as caught:
        tokens.verify(tampered, "member")
    assert caught.value.code == "INVALID_TOKEN"


def test_token_signed_by_another_key_is_refused() -> None:
    clock = FrozenClock(NOW)
    ours = make_service(clock)
    theirs = make_service(clock, key=Ed25519PrivateKey.generate())
    with pytest.raises(NotAuthenticated):
        ours.verify(theirs.issue(uuid.uuid4(), "member"), "member")


def test_wrong_audience_is_refused_both_ways() -> None:
    tokens = make_service(FrozenClock(NOW))
    staff_token = tokens.issue(uuid.uuid4(), "staff", ("operator",))
    member_token = tokens.issue(uuid.uuid4(), "member")
    with pytest.raises(NotAuthenticated) as caught:
        tokens.verify(staff_token, "member")
    assert caught.value.code == "WRONG_AUDIENCE"
    with pytest.raises(NotAuthenticated):
        tokens.verify(member_token, "staff")


def test_alg_none_is_refused() -> None:
    tokens = make_service(FrozenClock(NOW))
    genuine = tokens.issue(uuid.uuid4(), "member")
    kid = jwt.get_unverified_header(genuine)["kid"]
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": kid}).encode())
    unsigned = f"{header}.{_segments(genuine)[1]}."
    with pytest.raises(NotAuthenticated) as caught:
        tokens.verify(unsigned, "member")
    assert caught.value.code == "INVALID_TOKEN"


def test_hmac_with_the_public_key_is_refused() -> None:
    """The classic key-confusion attack: HS256 keyed with our published key."""
    tokens = make_service(FrozenClock(NOW))
    genuine = tokens.issue(uuid.uuid4(), "member")
    kid = jwt.get_unverified_header(genuine)["kid"]
    x = tokens.jwks()["keys"][0]["x"]
    forged = jwt.encode(_claims(genuine), x, algorithm="HS256", headers={"kid": kid})
    with pytest.raises(NotAuthenticated):
        tokens.verify(forged, "member")


def test_wrong_issuer_and_unknown_kid_are_refused() -> None:
    clock = FrozenClock(NOW)
    settings = Settings()
    other_issuer = TokenService(
        signing_key=settings.signing_key,
        key_id=settings.signing_key_id,
        issuer="someone-else",
        audiences={"member": "member-api:member", "staff": "member-api:staff"},
        ttl_seconds=900,
        clock=clock,
    )
    tokens = make_service(clock)
    with pytest.raises(NotAuthenticated):
        tokens.verify(other_issuer.issue(uuid.uuid4(), "member"), "member")
    body = _claims(tokens.issue(uuid.uuid4(), "member"))
    wrong_kid = jwt.encode(body, settings.signing_key, algorithm="EdDSA", headers={"kid": "x"})
    with pytest.raises(NotAuthenticated):
        tokens.verify(wrong_kid, "member")


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "Bearer", "e30.e30.e30"])
def test_garbage_is_refused(garbage: str) -> None:
    with pytest.raises(NotAuthenticated):
        make_service(FrozenClock(NOW)).verify(garbage, "member")


def test_jwks_verifies_a_token_with_a_stock_library() -> None:
    tokens = make_service(FrozenClock(datetime.now(UTC)))
    token = tokens.issue(uuid.uuid4(), "member")
    jwk = jwt.PyJWK(tokens.jwks()["keys"][0])
    claims = jwt.decode(token, jwk.key, algorithms=["EdDSA"], audience="member-api:member")
    assert claims["iss"] == "member-api"


def test_a_signature_is_checked_once_but_the_lifetime_on_every_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = FrozenClock(NOW)
    tokens = make_service(clock)
    checked: list[str] = []
    real_decode = jwt.decode

    def counting(token: str, *args: object, **kwargs: object) -> object:
        checked.append(token)
        return real_decode(token, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jwt, "decode", counting)
    token = tokens.issue(uuid.uuid4(), "member")
    for _ in range(3):
        tokens.verify(token, "member")
    assert checked == [token]
    # The remembered signature is not a pass on the other endpoint...
    with pytest.raises(NotAuthenticated) as caught:
        tokens.verify(token, "staff")
    assert caught.value.code == "WRONG_AUDIENCE"
    # ...nor after the token's end.
    clock.advance(timedelta(seconds=900))
    with pytest.raises(NotAuthenticated) as caught:
        tokens.verify(token, "member")
    assert caught.value.code == "TOKEN_EXPIRED"
