"""Recorded Delta payloads (tests/data/delta/) replayed through every parser."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from exchange.delta import (
    ParseError,
    parse_candle,
    parse_fill,
    parse_l2_book,
    parse_order,
    parse_position,
    parse_private,
    parse_product,
    parse_public,
    parse_ticker,
    parse_wallet,
)
from messages import (
    BookFeedFailed,
    BookSnapshot,
    BookUpdate,
    CandleUpdated,
    FillReported,
    FundingRate,
    MarkPrice,
    NotionalType,
    OrdersSnapshot,
    OrderStatus,
    OrderType,
    OrderUpdated,
    PositionsSnapshot,
    PositionUpdated,
    ProductState,
    Side,
    StreamAction,
    Ticker,
    Trade,
    WalletUpdated,
    decode,
    encode,
)
from tests.exchange.delta._data import DATA, TS_INIT, payloads

SYMBOLS = {27: "BTCUSD", 139: "BTCUSDT"}


def test_every_recorded_file_is_replayed_here() -> None:
    source = Path(__file__).read_text(encoding="utf-8")
    for path in DATA.glob("*.json"):
        assert f'"{path.stem}"' in source, path.stem


def test_product() -> None:
    (raw,) = payloads("product")
    product = parse_product(raw)
    assert product.product_id == 27 and product.symbol == "BTCUSD"
    assert product.contract_value == Decimal("0.001") and product.tick_size == Decimal("0.5")
    assert product.maker_fee_rate == Decimal("0.0002")
    assert product.taker_fee_rate == Decimal("0.0005")
    assert product.funding_interval_s == 28800
    assert product.state is ProductState.LIVE and product.notional_type is NotionalType.VANILLA
    assert product.settling_asset == "USD"
    assert product.to_ticks(Decimal("65000.5")) == 130001
    assert product.from_ticks(130001) == Decimal("65000.5")
    assert product.round_price(Decimal("65000.3"), up=True) == Decimal("65000.5")
    assert product.round_price(Decimal("65000.3"), up=False) == Decimal("65000.0")
    with pytest.raises(ValueError, match="not a multiple"):
        product.to_ticks(Decimal("65000.3"))


def test_ticker() -> None:
    (raw,) = payloads("ticker")
    ticker = parse_ticker(raw, TS_INIT)
    assert ticker.ts_event == 1689136597460456000
    assert ticker.last_price == Decimal("30600.5")  # a JSON number, read exactly
    assert ticker.best_bid == Decimal("30599.5") and ticker.best_ask == Decimal("30600.5")
    assert ticker.mark_price == Decimal("30600.10")
    assert ticker.open_interest == Decimal(469919)
    assert ticker.funding_rate == Decimal("0.00602961") / 100
    assert ticker.volume_24h == Decimal("1226.303")


def test_l2orderbook() -> None:
    (raw,) = payloads("l2orderbook")
    book = parse_l2_book(raw, TS_INIT)
    assert book.seq == -1 and book.checksum is None
    assert book.bids[0].price == Decimal("9187.5") and book.bids[0].size == 205640
    assert book.asks[0].price == Decimal("9188.0")
    assert book.ts_event == 1594887432000000000


def test_candles() -> None:
    first, second = payloads("candles")
    candle = parse_candle(first, symbol="BTCUSD", resolution_s=60)
    assert candle.open_time_ns == 1605393120 * 10**9
    assert candle.close_time_ns == (1605393120 + 60) * 10**9
    assert candle.low == Decimal("15987.5") and candle.volume == Decimal(565)
    assert parse_candle(second, symbol="BTCUSD", resolution_s=60).high == Decimal("15990.5")


def test_order() -> None:
    open_raw, closed_raw = payloads("order")
    order = parse_order(open_raw, SYMBOLS)
    assert order.order_id == "152870626" and order.symbol == "BTCUSDT"
    assert order.client_order_id is None and order.side is Side.BUY
    assert order.order_type is OrderType.LIMIT and order.status is OrderStatus.OPEN
    assert order.limit_price == Decimal(10000) and order.filled_size == 0
    stop = parse_order(closed_raw, SYMBOLS)
    assert stop.order_type is OrderType.STOP_MARKET and stop.stop_price == Decimal("64000.5")
    assert stop.filled_size == 6 and stop.status is OrderStatus.CANCELLED


def test_position() -> None:
    (raw,) = payloads("position")
    position = parse_position(raw, SYMBOLS)
    assert position.size == -30 and position.entry_price == Decimal("65000.5")
    assert position.realised_pnl == Decimal("-1.25")
    assert position.updated_ns == 1725867412123456000


def test_fill() -> None:
    (raw,) = payloads("fill")
    fill = parse_fill(raw, SYMBOLS)
    assert fill.is_maker and fill.fee == Decimal("-0.013") and fill.fee_asset == "USD"
    assert fill.ts_event_ns == 1605494306 * 10**9
    assert fill.client_order_id == "p42-entry-1" and fill.fill_type == "normal"


def test_wallet() -> None:
    (raw,) = payloads("wallet")
    wallet = parse_wallet(raw)
    assert wallet.asset == "USD" and wallet.balance == Decimal("1000.50")
    assert wallet.available_balance == Decimal("900.25")


def _one(frame: dict[str, object]) -> object:
    (message,) = parse_public(frame, TS_INIT)
    assert decode(encode(message)) == message  # every parsed message travels the codec
    return message


def test_ws_ticker() -> None:
    (frame,) = payloads("ws_ticker")
    ticker = _one(frame)
    assert isinstance(ticker, Ticker)
    assert ticker.best_ask == Decimal("72142.0") and ticker.best_bid == Decimal("72141.5")
    assert ticker.last_price == Decimal("72141.5") and ticker.index_price == Decimal("72154.6")
    assert ticker.open_interest == Decimal(469919)


def test_ws_ob_updates() -> None:
    snapshot, update, error = payloads("ws_ob_updates")
    book = _one(snapshot)
    assert isinstance(book, BookSnapshot)
    assert book.seq == 6199 and book.checksum == 2178756498
    assert [str(level.price) for level in book.asks] == ["68525.0", "68525.5"]  # as sent
    change = _one(update)
    assert isinstance(change, BookUpdate) and change.seq == 6200
    assert change.asks[0].size == 0
    failed = _one(error)
    assert isinstance(failed, BookFeedFailed) and failed.symbol == "BTCUSD"


def test_ws_trades() -> None:
    taker_buy, maker_buy = payloads("ws_trades")
    trade = _one(taker_buy)
    assert isinstance(trade, Trade)
    assert trade.side is Side.BUY and trade.size == 1 and trade.ts_event == 1712000000123456000
    other = _one(maker_buy)
    assert isinstance(other, Trade) and other.side is Side.SELL


def test_ws_mark_price() -> None:
    (frame,) = payloads("ws_mark_price")
    mark = _one(frame)
    assert isinstance(mark, MarkPrice) and mark.symbol == "BTCUSD"
    assert mark.price == Decimal("72124.5")


def test_ws_candlestick() -> None:
    (frame,) = payloads("ws_candlestick")
    update = _one(frame)
    assert isinstance(update, CandleUpdated) and update.resolution == "15m"
    assert update.candle.open_time_ns == 1712000400 // 900 * 900 * 10**9
    assert update.candle.close == Decimal("72141.5")


def test_ws_funding_rate() -> None:
    (frame,) = payloads("ws_funding_rate")
    rate = _one(frame)
    assert isinstance(rate, FundingRate) and rate.rate == Decimal("0.0001")
    assert rate.next_funding_ns == 1712016000000000000


def test_ws_legacy_v2_ticker() -> None:
    (frame,) = payloads("ws_legacy_v2_ticker")
    ticker = _one(frame)
    assert isinstance(ticker, Ticker) and ticker.ts_event == 1712000000000000000
    assert ticker.funding_rate == Decimal("0.0001")


def test_ws_legacy_l2_updates() -> None:
    snapshot, update = payloads("ws_legacy_l2_updates")
    book = _one(snapshot)
    assert isinstance(book, BookSnapshot) and book.seq == 6199
    change = _one(update)
    assert isinstance(change, BookUpdate) and change.seq == 6200 and change.asks == ()


def test_ws_legacy_all_trades() -> None:
    snapshot, trade_frame = payloads("ws_legacy_all_trades")
    trades = parse_public(snapshot, TS_INIT)
    assert [t.side for t in trades if isinstance(t, Trade)] == [Side.SELL, Side.BUY]
    trade = _one(trade_frame)
    assert isinstance(trade, Trade) and trade.side is Side.BUY


def test_ws_legacy_mark_price() -> None:
    (frame,) = payloads("ws_legacy_mark_price")
    mark = _one(frame)
    assert isinstance(mark, MarkPrice) and mark.symbol == "BTCUSD"


def test_ws_legacy_candlestick() -> None:
    (frame,) = payloads("ws_legacy_candlestick")
    update = _one(frame)
    assert isinstance(update, CandleUpdated)
    assert update.candle.open_time_ns == 1712000340000000000
    assert update.candle.close_time_ns == 1712000400000000000


def test_ws_legacy_funding_rate() -> None:
    (frame,) = payloads("ws_legacy_funding_rate")
    rate = _one(frame)
    assert isinstance(rate, FundingRate) and rate.rate == Decimal("0.00005")


def _private(frame: dict[str, object]) -> object:
    (message,) = parse_private(frame, TS_INIT, SYMBOLS)
    assert decode(encode(message)) == message
    return message


def test_ws_orders() -> None:
    snapshot, update = payloads("ws_orders")
    snap = _private(snapshot)
    assert isinstance(snap, OrdersSnapshot) and snap.seq == 7
    assert snap.orders[0].client_order_id == "p42-entry-1"
    change = _private(update)
    assert isinstance(change, OrderUpdated) and change.action is StreamAction.UPDATE
    assert change.order.filled_size == 6 and change.order.status is OrderStatus.PARTIALLY_FILLED
    assert change.order.order_type is OrderType.LIMIT and change.seq == 8


def test_ws_positions() -> None:
    snapshot, update = payloads("ws_positions")
    snap = _private(snapshot)
    assert isinstance(snap, PositionsSnapshot) and snap.positions[0].size == 6
    assert snap.ts_event == TS_INIT  # the venue sends no time with the snapshot
    change = _private(update)
    assert isinstance(change, PositionUpdated) and change.position.size == 10


def test_ws_margins() -> None:
    (frame,) = payloads("ws_margins")
    wallet = _private(frame)
    assert isinstance(wallet, WalletUpdated) and wallet.balance.balance == Decimal("1000.50")


def test_ws_v2_user_trades() -> None:
    (frame,) = payloads("ws_v2_user_trades")
    fill = _private(frame)
    assert isinstance(fill, FillReported) and fill.seq == 4 and fill.position_size_after == 6
    assert fill.fill.fee is None and fill.fill.is_maker and fill.fill.side is Side.BUY


def test_ws_user_trades() -> None:
    (frame,) = payloads("ws_user_trades")
    fill = _private(frame)
    assert isinstance(fill, FillReported) and fill.fill.order_id == "152870626"
    assert not fill.fill.is_maker


@pytest.mark.parametrize(
    ("name", "field"),
    [("ws_ob_updates", "seq"), ("ws_trades", "p"), ("ws_mark_price", "p")],
)
def test_a_missing_field_names_itself_and_never_becomes_zero(name: str, field: str) -> None:
    frame = dict(payloads(name)[0])
    del frame[field]
    with pytest.raises(ParseError) as caught:
        parse_public(frame, TS_INIT)
    assert field in caught.value.field


def test_a_missing_rest_field_names_itself() -> None:
    raw = dict(payloads("product")[0])
    del raw["tick_size"]
    with pytest.raises(ParseError, match=r"product\.tick_size: missing"):
        parse_product(raw)
