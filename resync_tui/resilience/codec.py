"""Byte format of values in the L2 (Redis) cache.

Layout: one version byte, then the payload. Version 1 is MessagePack as written
by msgspec: compact, fast, and decodable into a typed ``msgspec.Struct`` (or any
type msgspec supports) so a value read back from Redis is validated, not trusted.
A value that does not decode raises :class:`CodecError`; one with a version
byte this codec does not know raises its subclass :class:`CodecVersionError`,
whose ``newer`` says whether it was written by a newer format (a newer release
sharing the same Redis). The tiered cache treats both as a miss; it leaves a
newer entry alone (no delete, no write-back over it), so a mixed-version fleet
does not wipe each other's entries.
"""

from __future__ import annotations

from typing import Any, Final, Generic, Protocol, TypeVar

import msgspec

__all__ = ["Codec", "CodecError", "CodecVersionError", "MsgpackCodec"]

V = TypeVar("V")

MSGPACK_V1: Final = 1


class CodecError(ValueError):
    """Bytes from L2 that this codec cannot read."""


class CodecVersionError(CodecError):
    """The entry's version byte is not ours; ``newer`` if it is above ours."""

    def __init__(self, version: int | None, newer: bool) -> None:
        self.version = version
        self.newer = newer
        super().__init__(f"unknown cache format version {version!r}"
                         + (" (newer than this release)" if newer else ""))


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
        if not data:
            raise CodecVersionError(None, newer=False)
        if data[0] != MSGPACK_V1:
            raise CodecVersionError(data[0], newer=data[0] > MSGPACK_V1)
        try:
            return self._decoder.decode(memoryview(data)[1:])  # type: ignore[no-any-return]
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise CodecError(f"undecodable cache entry: {exc}") from exc

    def __repr__(self) -> str:
        return f"MsgpackCodec(type={self.type!r})"
