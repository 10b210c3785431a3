"""What a field may hold: the type-hint walker shared by construction checks and the codec.

Every message and every nested value is a frozen, slotted, keyword-only dataclass deriving
from :class:`Value`. Its type hints are resolved once per class (``typing.get_type_hints``)
into a tuple of ``(name, Shape)`` pairs, cached; both the construction check below and
``messages._codec`` compile their per-class plans from those shapes.

Supported field types, and nothing else (anything else raises
:class:`MessageDefinitionError` when the class is first checked):

- ``str``, ``bool``, ``float``, ``decimal.Decimal``;
- ``int``, limited to the signed 64-bit range (what orjson and LMDB carry);
- a ``NewType`` of one of those (``UnixNanos``, ``Contracts``, ``ActorId``);
- an ``enum.StrEnum`` subclass;
- ``X | None``;
- ``tuple[X, ...]`` (never ``list``: messages are immutable);
- another :class:`Value` subclass, nested.

Construction is strict and exact: ``type(v) is int`` (so ``True`` is not an ``int``),
``type(v) is Decimal`` and finite (a ``float`` price is refused), ``type(v) is float`` for
indicator values (``numpy.float64`` is refused: convert with ``float()`` first), exact enum
members (a bare ``"BUY"`` string is refused), and tuples. A list where a tuple is declared
is rejected, not converted, so that nobody can keep a reference to a mutable list that a
message appears to own. Violations raise :class:`InvalidFieldError` naming the field path.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, cast

from messages._errors import InvalidFieldError, MessageDefinitionError

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


class Kind(enum.Enum):
    """The kinds of field shape the codec understands."""

    STR = "str"
    INT = "int"
    BOOL = "bool"
    FLOAT = "float"
    DECIMAL = "Decimal"
    ENUM = "enum"
    OPTIONAL = "optional"
    TUPLE = "tuple"
    VALUE = "value"


@dataclasses.dataclass(frozen=True, slots=True)
class Shape:
    """The resolved type of one field.

    Attributes:
        kind: Which kind of shape this is.
        inner: The element shape for ``OPTIONAL`` and ``TUPLE``, else ``None``.
        cls: The enum class for ``ENUM``, the value class for ``VALUE``, else ``None``.
    """

    kind: Kind
    inner: Shape | None = None
    cls: type[Any] | None = None

    def describe(self) -> str:
        """Return the shape as Python would spell the type, for error messages."""
        if self.kind is Kind.OPTIONAL:
            assert self.inner is not None
            return f"{self.inner.describe()} | None"
        if self.kind is Kind.TUPLE:
            assert self.inner is not None
            return f"tuple[{self.inner.describe()}, ...]"
        if self.cls is not None:
            return str(self.cls.__name__)
        return str(self.kind.value)


_SCALARS: dict[object, Kind] = {
    str: Kind.STR,
    int: Kind.INT,
    bool: Kind.BOOL,
    float: Kind.FLOAT,
    Decimal: Kind.DECIMAL,
}


class Value:
    """Base of every message and every nested value type (``BookLevel``, ``Candle``, ...).

    Subclasses must be declared ``@dataclass(frozen=True, slots=True, kw_only=True)``.
    The dataclass ``__init__`` calls :meth:`__post_init__`, which checks every field
    against its type hint (see the module docstring) and raises
    :class:`InvalidFieldError` on the first wrong field. Subclasses that add checks
    override ``__post_init__`` and call ``Value.__post_init__(self)`` first (zero-argument
    ``super()`` does not work in slotted dataclasses on Python 3.11).
    """

    __slots__ = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Give the slotted dataclass a faster ``__init__`` (see :func:`install_fast_init`)."""
        super().__init_subclass__(**kwargs)
        install_fast_init(cls)

    def __post_init__(self) -> None:
        """Check every field; raise :class:`InvalidFieldError` naming the first bad one."""
        cls = type(self)
        fast = _FAST_CHECKS.get(cls) or _compile_fast_check(cls)
        if not fast(self):
            _diagnose(self)


def install_fast_init(cls: type) -> None:
    """Replace a frozen, slotted dataclass's ``__init__`` by one that stores into the slots.

    The dataclass ``__init__`` of a frozen class goes through ``object.__setattr__`` once a
    field; storing through each slot's descriptor does the same in half the time, and
    message construction is the hot path of the deterministic runtime (the backtest builds
    hundreds of thousands). The new ``__init__`` takes the same keyword-only arguments and
    ends, as the dataclass one does, by calling ``__post_init__``, so every check still
    runs. Called for every subclass of :class:`Value` when its class is created: it acts
    only on the slotted class ``@dataclass(slots=True)`` builds, and leaves the dataclass
    ``__init__`` alone for a class it does not fit (a default, a positional or a non-init
    field, an ``InitVar``); :func:`fields_of` refuses such classes anyway.
    """
    own = cls.__dict__
    params = own.get("__dataclass_params__")
    if params is None or not params.frozen or "__slots__" not in own:
        return
    fields = dataclasses.fields(cast(Any, cls))
    code = getattr(own.get("__init__"), "__code__", None)
    if code is None or code.co_argcount != 1 or code.co_kwonlyargcount != len(fields):
        return  # not the dataclass's keyword-only __init__ of exactly these fields (InitVar)
    missing = dataclasses.MISSING
    for field in fields:
        if not (field.kw_only and field.init) or field.default is not missing:
            return
        if field.default_factory is not missing:
            return
    names = [field.name for field in fields]
    stores = _slot_stores(cls, names, names)
    if stores is None:
        return
    setters, lines = stores
    arguments = "".join(f", {name}" for name in names)
    source = (
        f"def __init__(__value_self__{', *' if fields else ''}{arguments}):\n"
        + "".join(f"{line}\n" for line in lines)
        + "    __value_self__.__post_init__()"
    )
    exec(source, setters)  # source built from field names only
    init = setters["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__doc__ = own["__init__"].__doc__
    init.__annotations__ = own["__init__"].__annotations__
    cls.__init__ = init  # type: ignore[misc]


def _slot_stores(
    cls: type, names: Sequence[str], values: Sequence[str]
) -> tuple[dict[str, Any], list[str]] | None:
    """Source lines storing each of ``values`` (expressions) into the slot of the field of
    the same position in ``names``, through the slot's descriptor, and the descriptors'
    setters they call; None when a name is not a slot of ``cls``. The setters are named
    ``__set_<i>__``, which no field can shadow (a field may be called "self" or "s0")."""
    setters: dict[str, Any] = {}
    lines = []
    for index, (name, value) in enumerate(zip(names, values, strict=True)):
        descriptor = getattr(cls, name, None)
        if not isinstance(descriptor, types.MemberDescriptorType):
            return None
        setters[f"__set_{index}__"] = descriptor.__set__
        lines.append(f"    __set_{index}__(__value_self__, {value})")
    return setters, lines


def positional_maker(cls: type, order: tuple[str, ...]) -> Callable[..., Any]:
    """A constructor of ``cls`` that takes every field positionally, in ``order``.

    For a producer that builds one message type hundreds of thousands of times (the
    backtest's indicator updates): parsing twenty keyword arguments costs as much as
    checking them. The maker stores into the slots as ``__init__`` does and runs the same
    ``__post_init__`` checks. Naming the order here, once, keeps the call sites free of
    any dependence on the order the class declares its fields in.

    Raises:
        MessageDefinitionError: ``order`` is not exactly the class's fields, or one of them
            is not a slot (``cls`` must be a slotted dataclass, as every ``Value`` is).
    """
    fields = {field.name for field in dataclasses.fields(cast(Any, cls))}
    if sorted(order) != sorted(fields):
        raise MessageDefinitionError(
            f"{cls.__name__}: positional order {order} is not exactly its fields {sorted(fields)}"
        )
    arguments = [f"__arg_{index}__" for index in range(len(order))]
    stores = _slot_stores(cls, order, arguments)
    if stores is None:
        raise MessageDefinitionError(f"{cls.__name__}: a field is not a slot")
    setters, lines = stores
    setters.update(__new__=object.__new__, __cls__=cls)
    source = (
        f"def __make__({', '.join(arguments)}):\n"
        + "    __value_self__ = __new__(__cls__)\n"
        + "".join(f"{line}\n" for line in lines)
        + "    __value_self__.__post_init__()\n"
        + "    return __value_self__"
    )
    exec(source, setters)  # source built from indices only
    make = setters["__make__"]
    make.__qualname__ = f"{cls.__qualname__}.positional"
    return cast("Callable[..., Any]", make)


class ShapeMismatchError(Exception):
    """Internal: a field value does not fit its shape. Never escapes the package.

    Raised by checkers and decoders, caught by the caller that knows the type name and
    turned into :class:`InvalidFieldError` or ``CodecError`` (hence not a ``BotError``).
    ``path`` grows as the exception unwinds through tuples (``[3]``) and nested values
    (``.price``).
    """

    def __init__(self, reason: str, path: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path

    @classmethod
    def expected(cls, what: str, value: object) -> ShapeMismatchError:
        """Build the usual "expected X, got Y" problem."""
        return cls(f"expected {what}, got {type(value).__name__}")


def shape_of(hint: object, owner: str) -> Shape:
    """Resolve one type hint into a :class:`Shape`.

    Raises:
        MessageDefinitionError: ``hint`` is not a supported field type.
    """
    supertype = getattr(hint, "__supertype__", None)
    if supertype is not None:  # a NewType: the wire and the checks see the base type
        return shape_of(supertype, owner)
    kind = _SCALARS.get(hint)
    if kind is not None:
        return Shape(kind)
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        others = [arg for arg in args if arg is not type(None)]
        if len(args) == 2 and len(others) == 1:
            return Shape(Kind.OPTIONAL, inner=shape_of(others[0], owner))
    elif origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return Shape(Kind.TUPLE, inner=shape_of(args[0], owner))
    elif isinstance(hint, type) and issubclass(hint, enum.StrEnum):
        return Shape(Kind.ENUM, cls=hint)
    elif isinstance(hint, type) and issubclass(hint, Value):
        return Shape(Kind.VALUE, cls=hint)
    raise MessageDefinitionError(
        f"{owner}: unsupported field type {hint!r}; use str, int, bool, float, Decimal, a "
        "NewType of those, a StrEnum, X | None, tuple[X, ...] or a Value subclass"
    )


_FIELDS: dict[type, tuple[tuple[str, Shape], ...]] = {}


def fields_of(cls: type) -> tuple[tuple[str, Shape], ...]:
    """Return ``(name, shape)`` for each field of a value class, in declaration order.

    Resolved once per class and cached. Also checks that the class is a frozen, slotted,
    keyword-only dataclass deriving from :class:`Value`.

    Raises:
        MessageDefinitionError: The class is declared wrongly or has an unsupported field.
    """
    cached = _FIELDS.get(cls)
    if cached is not None:
        return cached
    name = cls.__name__
    params = cls.__dict__.get("__dataclass_params__")
    if not issubclass(cls, Value) or params is None:
        raise MessageDefinitionError(f"{name}: must be a Value subclass decorated @dataclass")
    if not params.frozen or "__slots__" not in cls.__dict__:
        raise MessageDefinitionError(
            f"{name}: declare it @dataclass(frozen=True, slots=True, kw_only=True)"
        )
    try:
        hints = typing.get_type_hints(cls)
    except Exception as exc:  # NameError, TypeError, ...: any failure is a definition error
        raise MessageDefinitionError(f"{name}: cannot resolve type hints: {exc}") from exc
    result = []
    for field in dataclasses.fields(cast(Any, cls)):
        if not field.kw_only or not field.init:
            raise MessageDefinitionError(
                f"{name}.{field.name}: fields must be keyword-only __init__ arguments"
            )
        result.append((field.name, shape_of(hints[field.name], f"{name}.{field.name}")))
    plan = tuple(result)
    _FIELDS[cls] = plan
    return plan


Check = Callable[[object], None]
"""Raise :class:`ShapeMismatchError` when the value does not fit the shape, else return None."""

_FAST_CHECKS: dict[type, Callable[[object], bool]] = {}


def _compile_fast_check(cls: type) -> Callable[[object], bool]:
    """Generate ``check(obj) -> bool``: one boolean expression over every field.

    This is the hot path of every construction, so it is generated source (as
    ``dataclasses`` generates ``__init__``): about 30 ns a field instead of a function call
    per field. It only says yes or no; :func:`_diagnose` explains a no.
    """
    namespace: dict[str, Any] = {"Decimal": Decimal}
    lines = ["def check(self):"]
    conditions = []
    for index, (name, shape) in enumerate(fields_of(cls)):
        lines.append(f"    f{index} = self.{name}")
        conditions.append(_condition(shape, f"f{index}", namespace, 0))
    lines.append(f"    return {' and '.join(conditions) or 'True'}")
    exec("\n".join(lines), namespace)  # source built from field names only
    check: Callable[[object], bool] = namespace["check"]
    _FAST_CHECKS[cls] = check
    return check


def _condition(shape: Shape, var: str, namespace: dict[str, Any], depth: int) -> str:
    """Return a Python expression that is true when ``var`` fits ``shape``."""
    kind = shape.kind
    if kind is Kind.INT:
        return f"(type({var}) is int and {INT64_MIN} <= {var} <= {INT64_MAX})"
    if kind is Kind.DECIMAL:
        return f"(type({var}) is Decimal and {var}.is_finite())"
    if kind in (Kind.STR, Kind.BOOL, Kind.FLOAT):
        return f"type({var}) is {kind.value}"
    if kind is Kind.OPTIONAL:
        assert shape.inner is not None
        return f"({var} is None or {_condition(shape.inner, var, namespace, depth)})"
    if kind is Kind.TUPLE:
        assert shape.inner is not None
        exact = _exact_type(shape.inner)
        if exact is not None:  # every item of one exact type: no Python loop
            key = f"S{len(namespace)}"
            namespace[key] = frozenset((exact,))
            return f"(type({var}) is tuple and set(map(type, {var})) <= {key})"
        item = f"e{depth}"
        inner = _condition(shape.inner, item, namespace, depth + 1)
        return f"(type({var}) is tuple and all({inner} for {item} in {var}))"
    # ENUM and VALUE: exactly the declared class
    key = f"T{len(namespace)}"
    namespace[key] = shape.cls
    return f"type({var}) is {key}"


def _exact_type(shape: Shape) -> type | None:
    """The one class a value of ``shape`` must be exactly, when its type says it all."""
    if shape.kind in (Kind.STR, Kind.BOOL, Kind.FLOAT):
        return {Kind.STR: str, Kind.BOOL: bool, Kind.FLOAT: float}[shape.kind]
    if shape.kind in (Kind.ENUM, Kind.VALUE):
        return shape.cls
    return None  # int and Decimal also check a range or finiteness; optional and tuple nest


def _diagnose(obj: Value) -> None:
    """Find the first field that failed the generated check; raise InvalidFieldError."""
    cls = type(obj)
    name = ""
    try:
        for name, shape in fields_of(cls):
            make_check(shape)(getattr(obj, name))
    except ShapeMismatchError as problem:
        raise InvalidFieldError(cls.__name__, name + problem.path, problem.reason) from None
    raise InvalidFieldError(cls.__name__, "?", "failed its type check")  # pragma: no cover


def make_check(shape: Shape) -> Check:
    """Compile a shape into a function that raises :class:`ShapeMismatchError` on a misfit."""
    return _CHECK_MAKERS[shape.kind](shape)


def _check_str(_: Shape) -> Check:
    def check(value: object) -> None:
        if type(value) is not str:
            raise ShapeMismatchError.expected("str", value)

    return check


def _check_int(_: Shape) -> Check:
    def check(value: object) -> None:
        if type(value) is not int:
            raise ShapeMismatchError.expected("int", value)
        if not INT64_MIN <= value <= INT64_MAX:
            raise ShapeMismatchError(f"int {value} is outside the signed 64-bit range")

    return check


def _check_bool(_: Shape) -> Check:
    def check(value: object) -> None:
        if type(value) is not bool:
            raise ShapeMismatchError.expected("bool", value)

    return check


def _check_float(_: Shape) -> Check:
    def check(value: object) -> None:
        if type(value) is not float:
            raise ShapeMismatchError.expected("float", value)

    return check


def _check_decimal(_: Shape) -> Check:
    def check(value: object) -> None:
        if type(value) is not Decimal:
            raise ShapeMismatchError.expected("Decimal", value)
        if not value.is_finite():
            raise ShapeMismatchError(f"Decimal {value} is not finite")

    return check


def _check_enum(shape: Shape) -> Check:
    enum_cls = shape.cls
    assert enum_cls is not None

    def check(value: object) -> None:
        if type(value) is not enum_cls:
            raise ShapeMismatchError.expected(enum_cls.__name__, value)

    return check


def _check_optional(shape: Shape) -> Check:
    assert shape.inner is not None
    inner = make_check(shape.inner)

    def check(value: object) -> None:
        if value is not None:
            inner(value)

    return check


def _check_tuple(shape: Shape) -> Check:
    assert shape.inner is not None
    inner = make_check(shape.inner)
    what = shape.describe()

    def check(value: object) -> None:
        if type(value) is not tuple:
            raise ShapeMismatchError.expected(what, value)
        index = 0
        try:
            for index, item in enumerate(value):  # noqa: B007 (read in the handler)
                inner(item)
        except ShapeMismatchError as problem:
            problem.path = f"[{index}]{problem.path}"
            raise

    return check


def _check_value(shape: Shape) -> Check:
    value_cls = shape.cls
    assert value_cls is not None

    def check(value: object) -> None:
        # Exactly the declared class: it checked its own fields when it was built.
        if type(value) is not value_cls:
            raise ShapeMismatchError.expected(value_cls.__name__, value)

    return check


_CHECK_MAKERS: dict[Kind, Callable[[Shape], Check]] = {
    Kind.STR: _check_str,
    Kind.INT: _check_int,
    Kind.BOOL: _check_bool,
    Kind.FLOAT: _check_float,
    Kind.DECIMAL: _check_decimal,
    Kind.ENUM: _check_enum,
    Kind.OPTIONAL: _check_optional,
    Kind.TUPLE: _check_tuple,
    Kind.VALUE: _check_value,
}
