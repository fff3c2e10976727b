"""libsodium's ed25519 fast path gives securesystemslib's verdicts, on edge cases too.

libsodium only ever says yes (``trustkeep.core.verify._sodium``): a signature it
rejects goes to OpenSSL, which securesystemslib and python-tuf use. The vectors are
the cases where the two libraries are known to differ ("Taming the many EdDSAs",
Chalkias et al. 2020): small-order and mixed-order keys, small-order ``R``,
non-canonical encodings of ``A``, ``R`` and ``S``. They are built with libsodium's
own point and scalar operations (``nacl.bindings``), and every verdict is compared
with securesystemslib's ``verify_signature`` on the same bytes.
"""

from __future__ import annotations

import hashlib
from itertools import count

import nacl.bindings as nb
import nacl.exceptions as nb_exceptions
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from securesystemslib.exceptions import UnverifiedSignatureError, VerificationError
from securesystemslib.signer import Signature, SSlibKey

from trustkeep.core.verify import verify_tuf
from trustkeep.core.verify._sodium import WARMUP, Ed25519Accelerator
from trustkeep.core.verify._tufkeys import KeyCache

IDENTITY = bytes([1]) + bytes(31)
#: a point of order 8 (libsodium's small-order blocklist)
ORDER_8 = bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")
#: y = p + 1: a non-canonical encoding of the identity
IDENTITY_NONCANONICAL = (2**255 - 19 + 1).to_bytes(32, "little")
L = 2**252 + 27742317777372353535851937790883648493
MSG = b"the canonical bytes of a signed object"


def scalar(n: int) -> bytes:
    return (n % L).to_bytes(32, "little")


def challenge(r: bytes, a: bytes, msg: bytes) -> int:
    """k = SHA-512(R || A || M) mod L, as both libraries compute it."""
    return int.from_bytes(hashlib.sha512(r + a + msg).digest(), "little") % L


def base(n: int) -> bytes:
    return nb.crypto_scalarmult_ed25519_base_noclamp(scalar(n))


def honest(a: int, msg: bytes = MSG, r: int = 7) -> tuple[bytes, bytes]:
    """(public key, signature) of the scalar ``a`` over ``msg``: S = r + k·a."""
    pub, rr = base(a), base(r)
    return pub, rr + scalar(r + challenge(rr, pub, msg) * a)


def small_order_key() -> tuple[bytes, bytes]:
    """A = identity: R = [S]B satisfies the equation for any message (OpenSSL accepts)."""
    s = 12345
    return IDENTITY, base(s) + scalar(s)


def noncanonical_key() -> tuple[bytes, bytes]:
    """The identity written with y >= p; otherwise as :func:`small_order_key`."""
    s = 12345
    return IDENTITY_NONCANONICAL, base(s) + scalar(s)


def small_order_r() -> tuple[bytes, bytes]:
    """R = identity with S = k·a: [S]B - [k]A is the identity (OpenSSL accepts, libsodium
    refuses a small-order R)."""
    a = 987654321
    pub = base(a)
    return pub, IDENTITY + scalar(challenge(IDENTITY, pub, MSG) * a)


def mixed_order_key(*, k_divisible: bool) -> tuple[bytes, bytes, bytes]:
    """A = aB + T (T of order 8); the cofactorless equation holds when 8 divides k."""
    a, r = 55555, 777
    pub = nb.crypto_core_ed25519_add(base(a), ORDER_8)
    rr = base(r)
    for i in count():
        msg = MSG + str(i).encode()
        k = challenge(rr, pub, msg)
        if (k % 8 == 0) is k_divisible:
            return pub, rr + scalar(r + k * a), msg
    raise AssertionError  # pragma: no cover


def noncanonical_s() -> tuple[bytes, bytes]:
    pub, sig = honest(424242)
    big_s = int.from_bytes(sig[32:], "little") + L
    return pub, sig[:32] + big_s.to_bytes(32, "little")


def noncanonical_r() -> tuple[bytes, bytes]:
    """R = identity written with y >= p, over the small-order key (s = 0)."""
    return IDENTITY, IDENTITY_NONCANONICAL + scalar(0)


def reference(pub: bytes, sig: bytes, msg: bytes) -> bool:
    """securesystemslib's verdict (OpenSSL, as python-tuf)."""
    key = SSlibKey("k", "ed25519", "ed25519", {"public": pub.hex()})
    try:
        key.verify_signature(Signature("k", sig.hex()), msg)
    except (UnverifiedSignatureError, VerificationError):
        return False
    return True


def ours(pub: bytes, sig_hex: str, msg: bytes, accelerator: Ed25519Accelerator) -> bool | None:
    cache = KeyCache()
    cache.accelerator = accelerator
    doc = {"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": pub.hex()}}
    try:
        key = cache.key("k", doc, where="test")
    except ValueError:  # the key cannot be loaded: its signatures never verify
        return None
    assert key.fast is accelerator
    return key.check(sig_hex, msg)


def _mixed(divisible: bool) -> tuple[bytes, bytes, bytes]:
    return mixed_order_key(k_divisible=divisible)


VECTORS = {
    "honest": lambda: (*honest(31337), MSG),
    "honest, other message": lambda: (*honest(31337), MSG + b"!"),
    "small-order key": lambda: (*small_order_key(), MSG),
    "non-canonical key": lambda: (*noncanonical_key(), MSG),
    "small-order R": lambda: (*small_order_r(), MSG),
    "mixed-order key, 8 | k": lambda: _mixed(True),
    "mixed-order key, 8 ∤ k": lambda: _mixed(False),
    "S + L": lambda: (*noncanonical_s(), MSG),
    "non-canonical R": lambda: (*noncanonical_r(), MSG),
}


@pytest.mark.parametrize("name", list(VECTORS))
def test_edge_vectors_get_securesystemslibs_verdict(name: str) -> None:
    pub, sig, msg = VECTORS[name]()
    expected = reference(pub, sig, msg)
    got = ours(pub, sig.hex(), msg, Ed25519Accelerator(warmup=0))
    assert got is expected or (got is None and expected is False), (name, got, expected)


def test_the_vectors_are_the_cases_where_the_libraries_differ() -> None:
    """The vectors are real: OpenSSL accepts what libsodium refuses, so the fast path
    alone would have said no where the verdict is yes; and a key outside the main
    subgroup never takes the fast path, even where libsodium would accept."""
    for name in ("small-order key", "non-canonical key", "small-order R"):
        pub, sig, msg = VECTORS[name]()
        assert reference(pub, sig, msg), name
        with pytest.raises(nb_exceptions.BadSignatureError):
            nb.crypto_sign_open(sig + msg, pub)
        assert not Ed25519Accelerator(warmup=0).accepts(sig, msg, pub), name
    pub, sig, msg = VECTORS["mixed-order key, 8 | k"]()
    assert reference(pub, sig, msg) and nb.crypto_sign_open(sig + msg, pub) == msg
    assert not nb.crypto_core_ed25519_is_valid_point(pub)
    assert not Ed25519Accelerator(warmup=0).accepts(sig, msg, pub)
    pub, sig, msg = VECTORS["honest"]()
    assert reference(pub, sig, msg) and Ed25519Accelerator(warmup=0).accepts(sig, msg, pub)
    for name in ("S + L", "non-canonical R", "honest, other message", "mixed-order key, 8 ∤ k"):
        assert not reference(*VECTORS[name]()), name


@settings(max_examples=200, deadline=2000, derandomize=True)
@given(
    a=st.integers(1, L - 1),
    flip=st.integers(-1, 511),
    msg=st.binary(max_size=64),
)
def test_random_keys_and_flipped_bits_get_securesystemslibs_verdict(
    a: int, flip: int, msg: bytes
) -> None:
    pub, sig = honest(a, msg)
    if flip >= 0:
        sig = bytearray(sig)
        sig[flip // 8] ^= 1 << (flip % 8)
        sig = bytes(sig)
    assert ours(pub, sig.hex(), msg, Ed25519Accelerator(warmup=0)) is reference(pub, sig, msg)


def test_warm_up_asks_openssl_alone_then_libsodium() -> None:
    pub, sig = honest(99)
    fast = Ed25519Accelerator(warmup=3)
    assert [fast.accepts(sig, MSG, pub) for _ in range(5)] == [False] * 3 + [True] * 2
    assert WARMUP > 0


def test_a_run_with_many_bins_uses_the_fast_path_and_still_finds_a_foreign_signature() -> None:
    """128 bins are enough for libsodium from the first bin on; a bin signed by a key its
    delegation does not name is still the one error, in one process and in the pool."""
    from functools import partial

    from tufrepo import NOW, Repo

    from trustkeep.adapters.process_pool import parallel_map

    repo = Repo.build(delegations=False, succinct_bits=7, n_targets=400)
    assert WARMUP <= 128
    bad = "bin-5c"
    anchor = repo.files()["1.root.json"]
    assert verify_tuf(repo.bundle(), at=NOW, trusted_root=anchor).valid
    repo.sign(repo.targets[bad], "root")
    for mapper in (None, partial(parallel_map, max_workers=2)):
        kwargs = {"mapper": mapper} if mapper else {}
        report = verify_tuf(repo.bundle(), at=NOW, trusted_root=anchor, **kwargs)
        errors = {(f.code, f.role) for f in report.findings if f.severity == "error"}
        assert errors == {("threshold-not-met", bad)}, errors
        assert len(report.roles) == 4 + 128  # root, timestamp, snapshot, targets, the bins


def test_a_run_that_expects_many_signatures_loads_libsodium_at_once() -> None:
    pub, sig = honest(99)
    fast = Ed25519Accelerator(warmup=10)
    fast.expect(3)  # fewer than the warm-up: still OpenSSL alone
    assert not fast.accepts(sig, MSG, pub)
    fast.expect(500)
    assert fast.accepts(sig, MSG, pub)
