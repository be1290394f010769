"""Encrypted archives: a stream of authenticated chunks under a key derived from a passphrase."""

import io
import os
import tracemalloc

import pytest

from ncm_core import encryption
from ncm_core.encryption import TAG_SIZE, DecryptingReader, EncryptingWriter, _HEADER
from ncm_core.errors import BackupError

CHUNK = 1000


def encrypt(data: bytes, passphrase: str = "correct horse", chunk_size: int = CHUNK) -> bytes:
    out = io.BytesIO()
    writer = EncryptingWriter(out, passphrase, chunk_size=chunk_size)
    for start in range(0, len(data), 333):
        writer.write(data[start : start + 333])
    writer.close()
    return out.getvalue()


def decrypt(blob: bytes, passphrase: str = "correct horse") -> bytes:
    return DecryptingReader(io.BytesIO(blob), passphrase).read()


@pytest.mark.parametrize("size", [0, 1, CHUNK, 3 * CHUNK, 10 * CHUNK + 7])
def test_round_trip_gives_back_the_same_bytes(size):
    data = os.urandom(size)
    assert decrypt(encrypt(data)) == data


@pytest.mark.parametrize("piece", [1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 7 * CHUNK + 3])
def test_round_trip_whatever_the_sizes_of_the_writes(piece):
    data = os.urandom(10 * CHUNK + 5)
    out = io.BytesIO()
    writer = EncryptingWriter(out, "correct horse", chunk_size=CHUNK)
    for start in range(0, len(data), piece):
        writer.write(memoryview(data)[start : start + piece])
    writer.close()
    assert decrypt(out.getvalue()) == data
    assert len(out.getvalue()) == _HEADER.size + 11 * (CHUNK + TAG_SIZE) - CHUNK + 5


def test_reading_an_archive_again_does_not_derive_its_key_again():
    """A restore reads the archive twice (verify, then restore): scrypt runs once."""
    blob = encrypt(b"x" * 5000)
    decrypt(blob)
    hits = encryption._derive.cache_info().hits
    assert decrypt(blob) == b"x" * 5000
    assert encryption._derive.cache_info().hits == hits + 1


def test_ciphertext_does_not_contain_the_plaintext():
    data = b"secret customer row " * 200
    assert b"secret customer row" not in encrypt(data)


def test_each_backup_gets_its_own_salt_and_nonces():
    data = b"x" * 5000
    assert encrypt(data)[:_HEADER.size] != encrypt(data)[:_HEADER.size]


def test_wrong_passphrase_is_refused():
    with pytest.raises(BackupError, match="wrong encryption key"):
        decrypt(encrypt(b"payload" * 100), "not the passphrase")


@pytest.mark.parametrize("where", ["header", "first chunk", "middle", "last tag"])
def test_a_flipped_byte_anywhere_is_detected(where):
    blob = bytearray(encrypt(os.urandom(5 * CHUNK + 10)))
    offset = {"header": 12, "first chunk": _HEADER.size + 5, "middle": len(blob) // 2, "last tag": len(blob) - 1}[where]
    blob[offset] ^= 0x01
    with pytest.raises(BackupError):
        decrypt(bytes(blob))


def test_truncation_at_a_chunk_boundary_is_detected():
    blob = encrypt(os.urandom(5 * CHUNK + 10))
    cut = _HEADER.size + 3 * (CHUNK + TAG_SIZE)
    with pytest.raises(BackupError, match="chunk 2"):
        decrypt(blob[:cut])


def test_a_file_cut_after_its_header_is_detected():
    with pytest.raises(BackupError):
        decrypt(encrypt(b"payload")[:_HEADER.size])


def test_appended_bytes_are_detected():
    blob = encrypt(os.urandom(2 * CHUNK))
    with pytest.raises(BackupError):
        decrypt(blob + blob[_HEADER.size : _HEADER.size + CHUNK + TAG_SIZE])


def test_a_file_that_is_not_encrypted_is_named_so():
    with pytest.raises(BackupError, match="not an ncm encrypted archive"):
        decrypt(b"SQLite format 3\x00" + bytes(100))


def test_memory_stays_flat_while_streaming_32_mb():
    class Sink(io.RawIOBase):
        def writable(self):
            return True

        def write(self, data):
            return len(data)

    block = os.urandom(64 * 1024)
    tracemalloc.start()
    try:
        writer = EncryptingWriter(Sink(), "pw")
        for _ in range(512):
            writer.write(block)
        writer.close()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB while encrypting 32 MiB"


def test_a_header_asking_for_huge_scrypt_memory_is_refused():
    blob = bytearray(encrypt(b"payload"))
    blob[8] = 30
    with pytest.raises(BackupError, match="encryption header is damaged"):
        decrypt(bytes(blob))
