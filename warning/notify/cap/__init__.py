"""CAP 1.2: alerts, their words and areas, the Atom feed, and files rendered from a backtest."""
