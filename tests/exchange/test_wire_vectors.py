"""The protocol reference's test vectors for signing and book checksums."""

from __future__ import annotations

from exchange.delta._checksum import book_checksum
from exchange.delta._signing import prehash, sign_request, sign_ws_auth, signatures_match

SECRET = "7b6f39dcf660ec1c7c664f612c60410a2bd0c258416b498bf0311f94228f"


def test_rest_signature_matches_the_corrected_v2_vector() -> None:
    signature = sign_request(
        SECRET,
        method="GET",
        timestamp="1542110948",
        path="/v2/orders",
        query="?product_id=1&state=open",
        body="",
    )
    assert signature == "4e38dda3e6477092f360ba70399266d8145630b22bcc34c0ec7f804d5746877a"


def test_the_documented_signature_is_the_v1_path_one() -> None:
    # The official example's value signs the path without /v2: proof the docs were stale.
    v1 = sign_request(
        SECRET,
        method="GET",
        timestamp="1542110948",
        path="/orders",
        query="?product_id=1&state=open",
        body="",
    )
    assert v1.startswith("ad767fea") and v1.endswith("c9b4e3db")


def test_prehash_signs_the_exact_body_bytes() -> None:
    body = b'{"size":1,"side":"buy"}'
    signed = prehash(method="post", timestamp="1", path="/v2/orders", query="", body=body)
    assert signed == b"POST1/v2/orders" + body


def test_ws_auth_signs_get_timestamp_live() -> None:
    assert sign_ws_auth(SECRET, "1700000000") == sign_request(
        SECRET, method="GET", timestamp="1700000000", path="/live", query="", body=""
    )
    assert signatures_match("ab", "ab") and not signatures_match("ab", "ac")


def test_book_checksum_matches_the_documented_example() -> None:
    asks = [("100.00", "23"), ("100.05", "34")]
    bids = [("99.04", "87"), ("98.65", "102"), ("98.30", "16")]
    assert book_checksum(asks, bids) == 3599895312


def test_book_checksum_uses_only_the_best_ten_levels() -> None:
    asks = [(f"{100 + i}.0", "1") for i in range(15)]
    bids = [(f"{99 - i}.0", "1") for i in range(15)]
    assert book_checksum(asks, bids) == book_checksum(asks[:10], bids[:10])
    assert book_checksum(asks, bids) != book_checksum(asks[:9], bids[:10])
