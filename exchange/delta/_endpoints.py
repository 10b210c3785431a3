"""Regions and environments: which hosts the client talks to, from ``[exchange]`` settings.

===================  =====================================  ==========================================  ===========================================
region / testnet     REST                                   private (+ legacy public) WebSocket         compact public WebSocket
===================  =====================================  ==========================================  ===========================================
india (default)      https://api.india.delta.exchange       wss://socket.india.delta.exchange           wss://public-socket.india.delta.exchange
india, testnet       https://cdn-ind.testnet.deltaex.org    wss://socket-ind.testnet.deltaex.org        wss://socket-ind-pub.testnet.deltaex.org
global               https://api.delta.exchange             wss://socket.delta.exchange                 (unconfirmed: legacy channels on the private host)
global, testnet      https://testnet-api.delta.exchange     wss://testnet-socket.delta.exchange         (unconfirmed: as above)
===================  =====================================  ==========================================  ===========================================

Global's compact public host is unconfirmed (its docs name the India host, an apparent copy
error), so for Global the public stream uses the **legacy** channels on the private host
unless ``public_ws_url`` is set. ``rest_url``, ``ws_url`` and ``public_ws_url`` override any
derived value (the simulator sets all three). Pure; any thread may call it.
"""  # noqa: E501 - the table is wider than a line

from __future__ import annotations

from dataclasses import dataclass

from messages.settings import ExchangeSettings

__all__ = ["Endpoints", "endpoints_for"]

_HOSTS: dict[tuple[str, bool], tuple[str, str, str | None]] = {
    ("india", False): (
        "https://api.india.delta.exchange",
        "wss://socket.india.delta.exchange",
        "wss://public-socket.india.delta.exchange",
    ),
    ("india", True): (
        "https://cdn-ind.testnet.deltaex.org",
        "wss://socket-ind.testnet.deltaex.org",
        "wss://socket-ind-pub.testnet.deltaex.org",
    ),
    ("global", False): ("https://api.delta.exchange", "wss://socket.delta.exchange", None),
    ("global", True): (
        "https://testnet-api.delta.exchange",
        "wss://testnet-socket.delta.exchange",
        None,
    ),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Endpoints:
    """The three base URLs of one environment.

    Attributes:
        rest_url: REST base, without ``/v2`` (paths add it).
        ws_url: Private WebSocket (and legacy public channels).
        public_ws_url: Compact public WebSocket, or None when the environment has none
            confirmed (then use the legacy channels on ``ws_url``).
    """

    rest_url: str
    ws_url: str
    public_ws_url: str | None

    @property
    def compact_public(self) -> bool:
        """True when market data uses the compact channels on ``public_ws_url``."""
        return self.public_ws_url is not None


def endpoints_for(settings: ExchangeSettings) -> Endpoints:
    """Return the URLs for ``settings.region``/``testnet``, with the overrides applied."""
    rest, ws, public = _HOSTS[(settings.region, settings.testnet)]
    return Endpoints(
        rest_url=(settings.rest_url or rest).rstrip("/"),
        ws_url=settings.ws_url or ws,
        public_ws_url=settings.public_ws_url or public,
    )
