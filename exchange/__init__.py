"""The venue side of the bot: ``exchange.delta`` (the Delta Exchange client) and
``exchange.sim`` (a wire-compatible simulator of it).

Nothing is imported here, so ``import exchange.delta`` never starts the simulator's
dependencies and vice versa. Wire types never leave ``exchange/delta/`` (STYLE rule 8).
"""
