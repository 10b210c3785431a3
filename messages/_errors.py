"""The project's root error and the errors of the ``messages`` package.

Every error the bot raises on purpose derives from :class:`BotError`, so a caller can catch
"anything the bot meant to raise" in one clause. Each package adds one subclass; this
package adds :class:`MessageError` and three leaves::

    BotError                      root of every deliberate error in the bot
    `- MessageError               anything about message types or their wire form
       |- MessageDefinitionError  a message class is declared wrongly (import time)
       |- InvalidFieldError       a message or value is built with a wrong-typed field
       `- CodecError              bytes cannot be encoded or decoded as a message

Other packages hang their own subclass from :class:`BotError` (``ExchangeError``,
``StorageError``, ...). ``BotError`` lives here because ``messages`` is the one package
that every other package already imports.
"""

from __future__ import annotations


class BotError(Exception):
    """Raised when the bot detects an error it knows how to name.

    Never raised directly: each package raises its own subclass. Catch it at the top of a
    process or an actor to tell deliberate errors from bugs.
    """


class MessageError(BotError):
    """Raised when a message type, a message value or its wire form is wrong.

    Never raised directly; see the subclasses.
    """


class MessageDefinitionError(MessageError):
    """Raised when a message or value class is declared in a way the codec cannot carry.

    Examples: two message classes share a name (the wire type tag), a class is not a frozen,
    slotted, keyword-only dataclass, or a field has a type the codec does not support.
    ``import messages`` checks every class once, so this error surfaces at import time, not
    in the middle of trading. The caller must fix the class; nothing can be retried.
    """


class InvalidFieldError(MessageError, TypeError):
    """Raised when a message or value is constructed with a field of the wrong type.

    Raised by the generated ``__init__`` of every message and value class (through
    ``__post_init__``) when, for example, a list is given where a tuple is declared, a
    ``float`` where a ``Decimal`` price is declared, or ``True`` where an ``int`` is
    declared. The object is not created. It is also a ``TypeError``, because that is what
    the mistake is.

    Attributes:
        type_name: The class being constructed, for example ``"OrderFilled"``.
        path: The field path inside it, for example ``"bids[3].price"``.
        reason: What was wrong, for example ``"expected Decimal, got float"``.
    """

    def __init__(self, type_name: str, path: str, reason: str) -> None:
        super().__init__(f"{type_name}.{path}: {reason}")
        self.type_name = type_name
        self.path = path
        self.reason = reason


class CodecError(MessageError):
    """Raised when a message cannot be encoded, or bytes cannot be decoded into a message.

    Decoding raises it for every malformed input: bytes that are not JSON, a payload that
    is not an object, an unknown or missing ``"type"`` tag, a missing or extra field, a
    JSON value of the wrong type, an unknown enum value or an invalid decimal string.
    Encoding raises it for an object that is not a registered message and for strings
    orjson cannot write (lone surrogates). No other exception type escapes
    :func:`messages.decode` for any input. The caller must treat the payload as
    corrupt (log it with its position in the journal, skip or stop); retrying cannot help.

    Attributes:
        type_name: The message type concerned, or ``None`` when it is not known yet.
        path: The field path inside it (``"bids[3].price"``), or ``None``.
        reason: What was wrong.
    """

    def __init__(
        self, reason: str, *, type_name: str | None = None, path: str | None = None
    ) -> None:
        where = type_name or ""
        if path:
            where = f"{where}.{path}" if where else path
        super().__init__(f"{where}: {reason}" if where else reason)
        self.type_name = type_name
        self.path = path
        self.reason = reason
