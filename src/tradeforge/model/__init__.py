"""Domain model: exact money, identifiers, instruments, market data, orders and their events."""
