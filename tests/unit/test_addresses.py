"""The client's address behind a reverse proxy: only a trusted proxy's X-Forwarded-For counts."""

from bot.web.addresses import client_address_of

PROXY = ("10.0.0.5",)


def test_without_a_trusted_proxy_the_peer_is_the_client_whatever_the_header_says() -> None:
    assert client_address_of("203.0.113.7", "198.51.100.1", ()) == "203.0.113.7"
    assert client_address_of("203.0.113.7", "198.51.100.1", PROXY) == "203.0.113.7"  # not from the proxy
    assert client_address_of(None, None, ()) == "unknown"


def test_behind_the_proxy_the_last_address_it_did_not_write_is_the_client() -> None:
    assert client_address_of("10.0.0.5", "203.0.113.7", PROXY) == "203.0.113.7"
    # A client that forges the header only adds entries before the one the proxy appended.
    assert client_address_of("10.0.0.5", "1.2.3.4, 203.0.113.7", PROXY) == "203.0.113.7"
    assert client_address_of("10.0.0.5", "203.0.113.7, 10.0.0.5", PROXY) == "203.0.113.7"  # two proxy hops
    assert client_address_of("10.0.0.5", "", PROXY) == "10.0.0.5"
    assert client_address_of("10.0.0.5", " , ", PROXY) == "10.0.0.5"
    assert len(client_address_of("10.0.0.5", "x" * 10_000, PROXY)) == 64
