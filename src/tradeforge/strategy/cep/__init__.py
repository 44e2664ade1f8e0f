"""Complex event processing on the message bus: windows, joins, patterns, derived events.

See :mod:`tradeforge.strategy.cep.engine` and ``docs/signals.md``."""

from tradeforge.strategy.cep.engine import CepEngine, Stream
from tradeforge.strategy.cep.windows import Sliding, Tumbling

__all__ = ["CepEngine", "Sliding", "Stream", "Tumbling"]
