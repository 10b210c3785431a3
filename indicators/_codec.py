"""State bytes: one self-describing, checksummed layout for every streaming object.

Layout (all little-endian)::

    offset  size         field
    0       4            magic b"BTIS" (bot indicator state)
    4       2            format version (uint16), currently 1
    6       2            kind (uint16): 1 IndicatorSet, 2 RollingCorrelation, 3 IndicatorBank
    8       4            number of integer parameters I (uint32)
    12      4            number of float parameters F (uint32)
    16      8            number of state values S (uint64)
    24      8 * I        integer parameters (int64): periods, modes, sizes
    ..      8 * F        float parameters (float64)
    ..      8 * S        state (float64), the object's state array verbatim
    end-4   4            CRC-32 of every byte before it (uint32)

The parameters are the object's configuration, so bytes restore into an object of the same
configuration without the caller passing it. The state array holds every float the next
step reads, so restore-then-continue is bit-identical to never having stopped. A reader
refuses another magic, a newer version, a wrong kind, a bad length or a bad checksum with
:class:`~indicators.IndicatorStateError`; bump the version whenever the state layout of
any kind changes.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from indicators._errors import IndicatorStateError

MAGIC = b"BTIS"
FORMAT_VERSION = 1
KIND_SET = 1
KIND_CORRELATION = 2
KIND_BANK = 3

_HEADER = struct.Struct("<4sHHIIQ")
_CRC = struct.Struct("<I")


@dataclass(frozen=True, slots=True)
class Decoded:
    """What :func:`decode` found: parameters and the state array (a fresh, writable copy)."""

    ints: tuple[int, ...]
    floats: tuple[float, ...]
    state: NDArray[np.float64]


def encode(
    kind: int, ints: tuple[int, ...], floats: tuple[float, ...], state: NDArray[np.float64]
) -> bytes:
    """Serialise parameters and a state array into the layout described above."""
    flat = np.ascontiguousarray(state, dtype="<f8").reshape(-1)
    body = b"".join(
        (
            _HEADER.pack(MAGIC, FORMAT_VERSION, kind, len(ints), len(floats), flat.size),
            np.asarray(ints, dtype="<i8").tobytes(),
            np.asarray(floats, dtype="<f8").tobytes(),
            flat.tobytes(),
        )
    )
    return body + _CRC.pack(zlib.crc32(body))


def decode(data: bytes | bytearray | memoryview, kind: int) -> Decoded:
    """Parse bytes written by :func:`encode` for an object of ``kind``.

    Raises:
        IndicatorStateError: The bytes are not state of this kind and version, or are
            truncated or corrupt.
    """
    raw = bytes(data)
    if len(raw) < _HEADER.size + _CRC.size:
        raise IndicatorStateError(f"state is {len(raw)} bytes, too short for a header")
    magic, version, found_kind, n_int, n_float, n_state = _HEADER.unpack_from(raw)
    if magic != MAGIC:
        raise IndicatorStateError(f"state does not start with {MAGIC!r} (found {magic!r})")
    if version != FORMAT_VERSION:
        raise IndicatorStateError(
            f"state format version {version} is not supported (this code reads {FORMAT_VERSION})"
        )
    if found_kind != kind:
        raise IndicatorStateError(f"state is of kind {found_kind}, expected kind {kind}")
    expected = _HEADER.size + 8 * (n_int + n_float + n_state) + _CRC.size
    if len(raw) != expected:
        raise IndicatorStateError(f"state is {len(raw)} bytes, its header says {expected}")
    (crc,) = _CRC.unpack_from(raw, len(raw) - _CRC.size)
    if zlib.crc32(raw[: -_CRC.size]) != crc:
        raise IndicatorStateError("state checksum does not match: the bytes are corrupt")
    offset = _HEADER.size
    ints = np.frombuffer(raw, dtype="<i8", count=n_int, offset=offset)
    offset += 8 * n_int
    floats = np.frombuffer(raw, dtype="<f8", count=n_float, offset=offset)
    offset += 8 * n_float
    state = np.frombuffer(raw, dtype="<f8", count=n_state, offset=offset).astype(np.float64)
    return Decoded(
        tuple(int(v) for v in ints), tuple(float(v) for v in floats), np.ascontiguousarray(state)
    )
