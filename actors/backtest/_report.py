"""A backtest's metrics, its table, its JSON document and its equity/drawdown chart (SVG).

Definitions (per candle of the traded range; ``periods`` = candles per 365-day year):

- total return: end equity / start balance - 1; CAGR: (1 + total) ** (year / span) - 1
- Sharpe: mean / std of per-candle equity returns x sqrt(periods) (risk-free rate 0);
  Sortino: the same with the downside deviation (returns below 0, over all periods)
- max drawdown: the largest fall from a running equity peak, in % of that peak; its
  duration: the longest time spent below a previous peak
- trades are closed positions (hedges reported apart): win rate, profit factor (gross
  wins / gross losses), average net; net = realised - fees + funding
- exposure: share of candles that ended with a position open
"""

from __future__ import annotations

import hashlib
import math
from decimal import Decimal
from typing import Any

import numpy as np
import orjson

from actors.backtest._run import BacktestRun
from messages import HedgeClosed, PositionClosed, encode

__all__ = ["metrics", "svg_chart", "table", "to_json", "trade_hash"]

_YEAR_NS = 365 * 86_400 * 1_000_000_000


def metrics(run: BacktestRun) -> dict[str, Any]:
    """Every figure of the metrics table, JSON-ready (Decimal money as strings)."""
    equity = np.asarray(run.equity, dtype=np.float64)
    start = float(run.start_balance)
    closed = [e for e in run.events if isinstance(e, PositionClosed)]
    hedges = [e for e in run.events if isinstance(e, HedgeClosed)]
    nets = [e.realised_pnl - e.fees + e.funding for e in closed]
    wins = [n for n in nets if n > 0]
    losses = [n for n in nets if n <= 0]
    span_ns = (run.equity_ns[-1] - run.equity_ns[0] + run.timeframe_ns) if run.equity_ns else 0
    final = float(equity[-1]) if len(equity) else start
    total = final / start - 1
    years = span_ns / _YEAR_NS if span_ns else 0.0
    returns = np.diff(np.concatenate([[start], equity])) / np.concatenate([[start], equity[:-1]])
    periods = _YEAR_NS / run.timeframe_ns
    std = float(returns.std()) if len(returns) > 1 else 0.0
    downside = float(np.sqrt(np.mean(np.minimum(returns, 0.0) ** 2))) if len(returns) else 0.0
    mean = float(returns.mean()) if len(returns) else 0.0
    drawdown, duration_ns = _drawdown(equity, run.equity_ns, start)
    gross_win = sum(wins, Decimal(0))
    gross_loss = -sum(losses, Decimal(0))
    hedge_net = sum((h.realised_pnl - h.fees + h.funding for h in hedges), Decimal(0))
    return {
        "start_balance": str(run.start_balance),
        "end_balance": str(run.end_balance),
        "end_equity": round(final, 2),
        "total_return_pct": round(total * 100, 4),
        "cagr_pct": _cagr_pct(total, years),
        "sharpe": round(mean / std * math.sqrt(periods), 4) if std > 0 else None,
        "sortino": round(mean / downside * math.sqrt(periods), 4) if downside > 0 else None,
        "max_drawdown_pct": round(drawdown * 100, 4),
        "max_drawdown_days": round(duration_ns / 86_400e9, 2),
        "trades": len(closed),
        "win_rate_pct": round(len(wins) / len(closed) * 100, 2) if closed else None,
        "profit_factor": float(round(gross_win / gross_loss, 4)) if gross_loss > 0 else None,
        "average_trade": str(_q(sum(nets, Decimal(0)) / len(nets))) if nets else None,
        "exposure_pct": round(sum(run.exposed) / len(run.exposed) * 100, 2) if run.exposed else 0,
        "fees": str(
            _q(
                sum((e.fees for e in closed), Decimal(0))
                + sum((h.fees for h in hedges), Decimal(0))
            )
        ),
        "funding": str(
            _q(
                sum((e.funding for e in closed), Decimal(0))
                + sum((h.funding for h in hedges), Decimal(0))
            )
        ),
        "hedges": len(hedges),
        "hedge_net": str(_q(hedge_net)),
        "candles": run.candles,
        "trade_hash": trade_hash(run),
    }


def trade_hash(run: BacktestRun) -> str:
    """SHA-256 of every closed position and hedge in order: equal runs, equal hash."""
    digest = hashlib.sha256()
    for event in run.events:
        if isinstance(event, PositionClosed | HedgeClosed):
            digest.update(encode(event))
    return digest.hexdigest()


def table(values: dict[str, Any]) -> str:
    """The metrics as an aligned two-column table."""
    width = max(len(k) for k in values)
    return "\n".join(f"{k:<{width}}  {'-' if v is None else v}" for k, v in values.items())


def to_json(run: BacktestRun, values: dict[str, Any]) -> bytes:
    """Metrics, every trade (closed positions and hedges) and the equity curve."""
    trades = [
        orjson.loads(encode(e)) for e in run.events if isinstance(e, PositionClosed | HedgeClosed)
    ]
    curve = [[t, round(v, 6)] for t, v in zip(run.equity_ns, run.equity, strict=True)]
    doc = {"metrics": values, "trades": trades, "equity": curve}
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2)


def svg_chart(run: BacktestRun, *, width: int = 900, height: int = 420) -> str:
    """Equity (top) and drawdown (bottom) as a self-contained SVG any browser opens."""
    equity = np.asarray(run.equity, dtype=np.float64)
    if len(equity) < 2:
        equity = np.array([float(run.start_balance)] * 2)
    peak = np.maximum.accumulate(np.maximum(equity, float(run.start_balance)))
    dd = (equity - peak) / peak * 100
    top_h, gap = height * 0.62, 24
    bottom_h = height - top_h - gap - 20

    def line(values: np.ndarray, y0: float, h: float, lo: float, hi: float) -> str:
        span = hi - lo or 1.0
        xs = np.linspace(50, width - 10, len(values))
        ys = y0 + h - (values - lo) / span * h
        return " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))

    e_lo, e_hi = float(equity.min()), float(equity.max())
    d_lo = float(dd.min())
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="11">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="50" y="14">equity {e_lo:,.0f} .. {e_hi:,.0f}</text>',
        f'<polyline fill="none" stroke="#1f77b4" stroke-width="1.2" '
        f'points="{line(equity, 20, top_h - 20, e_lo, e_hi)}"/>',
        f'<text x="50" y="{top_h + gap - 4:.0f}">drawdown {d_lo:.2f} %</text>',
        f'<polyline fill="none" stroke="#d62728" stroke-width="1" '
        f'points="{line(dd, top_h + gap, bottom_h, d_lo, 0.0)}"/>',
        "</svg>",
    ]
    return "\n".join(parts)


def _drawdown(equity: np.ndarray, times: list[int], start: float) -> tuple[float, int]:
    if len(equity) == 0:
        return 0.0, 0
    peak = np.maximum.accumulate(np.maximum(equity, start))
    dd = (peak - equity) / peak
    longest, since = 0, None
    for k, below in enumerate(dd > 0):
        if below and since is None:
            since = times[k - 1] if k else times[0]
        elif not below and since is not None:
            longest, since = max(longest, times[k] - since), None
    if since is not None:
        longest = max(longest, times[-1] - since)
    return float(dd.max()), longest


def _cagr_pct(total: float, years: float) -> float | None:
    """Compound annual growth; None for a span too short to annualise (it overflows)."""
    if years <= 0 or total <= -1:
        return None
    try:
        return round(math.expm1(math.log1p(total) / years) * 100, 4)
    except OverflowError:
        return None


def _q(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.0001"))
