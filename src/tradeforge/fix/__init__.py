"""FIX 4.4: codec, data dictionary, session layer, message store, application mapping and venues.

Modules: :mod:`~tradeforge.fix.codec` (wire format), :mod:`~tradeforge.fix.dictionary` (FIX44.xml),
:mod:`~tradeforge.fix.validation` (session rejects), :mod:`~tradeforge.fix.values` (fixed-point and
timestamps), :mod:`~tradeforge.fix.store`, :mod:`~tradeforge.fix.session`, :mod:`~tradeforge.fix.schedule`,
:mod:`~tradeforge.fix.transport` (asyncio), :mod:`~tradeforge.fix.application` (orders and market data
<-> tradeforge events), :mod:`~tradeforge.fix.venue` (FIX venue adapter) and
:mod:`~tradeforge.fix.exchange` (acceptor in front of the matching engine).
"""
