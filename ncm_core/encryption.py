"""Encryption of backup archives at rest: a passphrase, scrypt, and AES-256-GCM in chunks.

A backup can be hundreds of megabytes, so it is encrypted as a stream of chunks (the STREAM
construction of Hoang, Reyhanitabar, Rogaway and Vizár) rather than in one piece that would
have to fit in memory. The file is::

    header   MAGIC (8) | scrypt log2(n) (1) | r (1) | p (1) | chunk size (4) | salt (16) | nonce prefix (7)
    chunks   AES-256-GCM(plaintext chunk) + tag (16), every chunk full-size except the last

The key is scrypt(passphrase, salt), with a fresh salt per backup. A chunk's nonce is the
prefix, the chunk's index (4 bytes) and a final-chunk flag (1 byte), and the header is the
associated data of every chunk: reordering, dropping, truncating or appending chunks, or
editing the header, all fail authentication. ``cryptography`` is imported only when a key is
used, so the core runs without it.
"""

from __future__ import annotations

import functools
import io
import os
import struct
from typing import Any, BinaryIO

from ncm_core.errors import BackupError

MAGIC = b"NCMENC\x00\x01"
CHUNK_SIZE = 1 << 20
TAG_SIZE = 16
SALT_SIZE = 16
PREFIX_SIZE = 7
SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P = 15, 8, 1
_HEADER = struct.Struct(f">8sBBBI{SALT_SIZE}s{PREFIX_SIZE}s")
_MAX_INDEX = 2**32 - 1


def describe(chunk_size: int = CHUNK_SIZE) -> dict[str, Any]:
    """What the manifest says about an encrypted archive (parameters only, never the key)."""
    return {"cipher": "AES-256-GCM", "kdf": "scrypt", "kdf_n": 2**SCRYPT_LOG2_N, "kdf_r": SCRYPT_R,
            "kdf_p": SCRYPT_P, "chunk_size": chunk_size, "format": "ncm-stream-1"}


@functools.lru_cache(maxsize=1)
def _derive(passphrase: str, salt: bytes, log2_n: int, r: int, p: int) -> Any:
    """The cipher for one archive. The last one is kept: a restore reads an archive twice
    (once to verify it, once to restore it) and scrypt costs about 0.1 s each time; a new
    backup has a fresh salt, so it always derives its own."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    key = Scrypt(salt=salt, length=32, n=2**log2_n, r=r, p=p).derive(passphrase.encode("utf-8"))
    return AESGCM(key)


def _nonce(prefix: bytes, index: int, final: bool) -> bytes:
    if index > _MAX_INDEX:
        raise BackupError("backup too large for one encrypted stream (over 4 billion chunks)")
    return prefix + struct.pack(">IB", index, 1 if final else 0)


class EncryptingWriter(io.RawIOBase):
    """Writes ``raw`` encrypted; ``close()`` writes the final chunk (it does not close ``raw``)."""

    def __init__(self, raw: BinaryIO, passphrase: str, chunk_size: int = CHUNK_SIZE) -> None:
        super().__init__()
        salt, self._prefix = os.urandom(SALT_SIZE), os.urandom(PREFIX_SIZE)
        self._header = _HEADER.pack(MAGIC, SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P, chunk_size, salt, self._prefix)
        self._aead = _derive(passphrase, salt, SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P)
        self._raw, self._chunk_size = raw, chunk_size
        self._buffer = bytearray()
        self._index = 0
        raw.write(self._header)

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        """Encrypt every full chunk that more data follows (the last chunk is only known to
        be last at close()); whole chunks of ``data`` are encrypted in place, not copied."""
        view = memoryview(data).cast("B")
        size, offset = self._chunk_size, 0
        while len(self._buffer) + len(view) - offset > size:
            if self._buffer:
                offset = size - len(self._buffer)
                self._buffer += view[:offset]
                self._emit(self._buffer, final=False)
                self._buffer = bytearray()
            else:
                self._emit(view[offset : offset + size], final=False)
                offset += size
        self._buffer += view[offset:]
        return len(view)

    def _emit(self, chunk: bytes | bytearray | memoryview, final: bool) -> None:
        self._raw.write(self._aead.encrypt(_nonce(self._prefix, self._index, final), chunk, self._header))
        self._index += 1

    def close(self) -> None:
        if not self.closed:
            self._emit(bytes(self._buffer), final=True)
            self._buffer.clear()
            self._raw.flush()
        super().close()


class DecryptingReader(io.RawIOBase):
    """Reads the plaintext of an archive written by :class:`EncryptingWriter`.

    Raises BackupError on a wrong passphrase or any altered, missing or extra byte, at the
    first chunk that fails; callers that must not act on unverified data read it all first.
    """

    def __init__(self, raw: BinaryIO, passphrase: str) -> None:
        super().__init__()
        self._raw = raw
        header = _read_exact(raw, _HEADER.size)
        if len(header) < _HEADER.size or not header.startswith(MAGIC):
            raise BackupError("the backup is not an ncm encrypted archive (bad header)")
        _, log2_n, r, p, chunk_size, salt, self._prefix = _HEADER.unpack(header)
        # Bounds keep a forged header from asking scrypt for gigabytes (at most 256 MiB here).
        if not (10 <= log2_n <= 18 and 1 <= r <= 8 and 1 <= p <= 4 and 1 <= chunk_size <= 1 << 26):
            raise BackupError("the backup's encryption header is damaged")
        self._header, self._block = header, chunk_size + TAG_SIZE
        self._aead = _derive(passphrase, salt, log2_n, r, p)
        self._index = 0
        self._current = _read_exact(raw, self._block)
        self._plain = b""
        self._offset = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes of the current chunk (all of it, uncopied, when it fits)."""
        if size < 0:
            return self.readall()
        if not self._available():
            return b""
        data = self._plain[self._offset : self._offset + size]
        self._offset += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        if not self._available():
            return 0
        n = min(len(buffer), len(self._plain) - self._offset)
        buffer[:n] = memoryview(self._plain)[self._offset : self._offset + n]
        self._offset += n
        return n

    def _available(self) -> bool:
        """Whether plaintext is left; decrypts the next chunk when the current one is used up."""
        while self._offset >= len(self._plain):
            if self._done:
                return False
            self._next_chunk()
        return True

    def _next_chunk(self) -> None:
        from cryptography.exceptions import InvalidTag

        following = _read_exact(self._raw, self._block)
        final = not following
        try:
            self._plain = self._aead.decrypt(_nonce(self._prefix, self._index, final), self._current, self._header)
        except InvalidTag:
            raise BackupError(
                f"cannot decrypt chunk {self._index} of the backup: wrong encryption key, or the file was altered"
            ) from None
        self._offset, self._index, self._current, self._done = 0, self._index + 1, following, final


def _read_exact(raw: BinaryIO, size: int) -> bytes:
    parts, missing = [], size
    while missing:
        part = raw.read(missing)
        if not part:
            break
        parts.append(part)
        missing -= len(part)
    return b"".join(parts)
