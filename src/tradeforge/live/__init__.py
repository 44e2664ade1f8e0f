"""Paper and live trading: the shared kernel driven by a real-time clock and live feeds."""
