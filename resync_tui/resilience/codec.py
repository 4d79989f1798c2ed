"""Byte format of values in the L2 (Redis) cache.

Layout: one version byte, then the payload. Version 1 is MessagePack as written
by msgspec: compact, fast, and decodable into a typed ``msgspec.Struct`` (or any
type msgspec supports) so a value read back from Redis is validated, not trusted.
A value with an unknown version byte or that does not decode raises
:class:`CodecError`; the tiered cache treats that as a miss (e.g. after a format
change, old entries simply get reloaded).
"""

from __future__ import annotations

from typing import Any, Final, Generic, Protocol, TypeVar

import msgspec

__all__ = ["Codec", "CodecError", "MsgpackCodec"]

V = TypeVar("V")

MSGPACK_V1: Final = 1


class CodecError(ValueError):
    """Bytes from L2 that this codec cannot read."""


class Codec(Protocol[V]):
    def encode(self, value: V) -> bytes: ...

    def decode(self, data: bytes) -> V: ...


class MsgpackCodec(Generic[V]):
    """Version byte 0x01 + msgspec MessagePack; ``type`` drives validated decoding."""

    version: Final = MSGPACK_V1

    def __init__(self, type: Any = Any) -> None:
        self.type = type
        self._encoder = msgspec.msgpack.Encoder()
        self._decoder: msgspec.msgpack.Decoder[Any] = msgspec.msgpack.Decoder(type)
        self._header = bytes([MSGPACK_V1])

    def encode(self, value: V) -> bytes:
        return self._header + self._encoder.encode(value)

    def decode(self, data: bytes) -> V:
        if not data or data[0] != MSGPACK_V1:
            raise CodecError(f"unknown cache format version {data[:1]!r}")
        try:
            return self._decoder.decode(memoryview(data)[1:])  # type: ignore[no-any-return]
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise CodecError(f"undecodable cache entry: {exc}") from exc

    def __repr__(self) -> str:
        return f"MsgpackCodec(type={self.type!r})"
