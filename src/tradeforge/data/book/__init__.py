"""Order books rebuilt from order-level (L3) feeds, and the events they emit."""

from tradeforge.data.book.l3 import Action, BookError, BookUpdates, L3Book, UnknownOrderPolicy

__all__ = ["Action", "BookError", "BookUpdates", "L3Book", "UnknownOrderPolicy"]
