"""Exchange WebSocket market data: a reconnecting client, Binance and Coinbase normalizers, recording.

See :mod:`.client` (connection, backoff, the shared L2 book), :mod:`.binance`, :mod:`.coinbase`,
:mod:`.recording` (exchange-format recordings of the repository's data and a local replay server)
and :mod:`.record` (normalized events to Parquet).
"""

from tradeforge.live.ws.client import BackoffPolicy, ConnectionGaveUp, L2Book, ReconnectingWebSocket, WsMessage

__all__ = ["BackoffPolicy", "ConnectionGaveUp", "L2Book", "ReconnectingWebSocket", "WsMessage"]
