"""Bad input: clear errors that name the file, never a crash, never a huge allocation."""

import os
import socket
import struct
import subprocess
import sys
import tempfile
import textwrap
import threading

import pytest
from packload import PACK_DIR, pack_module
from test_hashing_vectors import gen, safetensors

MiB = 1024 * 1024
#: Valid JSON, but a million empty lists: refused before json.loads can build them.
EMPTY_LISTS = b'{"a":[' + b"[]," * MiB + b"[]]}"


@pytest.fixture(scope="module")
def hashing():
    return pack_module("hashing")


def test_missing_file(hashing, tmp_path):
    path = tmp_path / "nope.safetensors"
    with pytest.raises(hashing.FileReadError) as err:
        hashing.hash_file(path)
    assert str(path) in str(err.value) and "does not exist" in str(err.value)
    assert isinstance(err.value, OSError) and err.value.filename == str(path)


def test_directory(hashing, tmp_path):
    with pytest.raises(hashing.FileReadError, match="is a directory"):
        hashing.hash_file(tmp_path)


def test_fifo_is_refused_without_blocking(hashing, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(hashing.FileReadError, match="not a regular file"):
        hashing.hash_file(fifo)


def test_socket_is_refused(hashing):
    # AF_UNIX paths are short: use a short temporary directory.
    with tempfile.TemporaryDirectory(dir="/tmp") as d:
        path = os.path.join(d, "s")
        with socket.socket(socket.AF_UNIX) as s:
            s.bind(path)
            with pytest.raises(hashing.FileReadError, match="not a regular file"):
                hashing.hash_file(path)


def test_permission_denied_from_open(hashing, tmp_path, monkeypatch):
    # Tests run as root, which ignores file modes: make open() fail the way it would.
    engine = pack_module("hashing.engine")
    path = tmp_path / "secret.bin"
    path.write_bytes(b"x")

    def denied(p):
        raise PermissionError(13, "Permission denied", p)

    monkeypatch.setattr(engine, "_open", denied)
    with pytest.raises(hashing.FileReadError) as err:
        hashing.hash_file(path)
    assert str(err.value) == f"Cannot read '{path}': permission denied."


@pytest.mark.skipif(not hasattr(os, "setuid"), reason="needs POSIX users")
def test_permission_denied_for_real_as_another_user(hashing):
    # Root ignores modes, so drop to "nobody" in a child process; as a normal user the
    # mode alone is enough. The directory must be traversable by that user.
    with tempfile.TemporaryDirectory(dir="/tmp") as d:
        os.chmod(d, 0o755)
        path = os.path.join(d, "secret.bin")
        with open(path, "wb") as f:
            f.write(b"secret")
        os.chmod(path, 0)
        code = textwrap.dedent(
            f"""
            import os, sys
            sys.path.insert(0, {str(PACK_DIR / "tests")!r})
            from packload import pack_module
            import blake3  # everything is imported first: "nobody" may not read the stdlib
            hashing = pack_module("hashing")
            hashing.hash_file, hashing.FileReadError
            if os.getuid() == 0:
                os.setgid(65534); os.setuid(65534)
            try:
                hashing.hash_file({path!r})
            except hashing.FileReadError as e:
                print("ERR", e)
            """
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert out.stdout.strip() == f"ERR Cannot read '{path}': permission denied.", out.stderr


@pytest.mark.parametrize(
    "name, data",
    [
        ("truncated_safetensors", safetensors({"a": "b"}, gen("t", 5000))[:50]),
        ("header_past_eof", struct.pack("<Q", 10**9) + gen("d", 4096)),
        ("huge_declared_header", struct.pack("<Q", 2**64 - 1) + b"{}" + gen("h", 100)),
        ("header_at_the_cap", struct.pack("<Q", 16 * MiB) + b"{}"),
        ("header_not_an_object", struct.pack("<Q", 8) + b"[1,2,3] " + gen("n", 64)),
        ("header_not_json", struct.pack("<Q", 8) + b"{nope:1}" + gen("j", 64)),
        ("header_not_utf8", struct.pack("<Q", 8) + b'{"\xff":1}' + gen("u", 64)),
        ("header_deeply_nested", struct.pack("<Q", 200_000) + b"[" * 200_000 + b"x" * 8),
        ("header_of_empty_lists", struct.pack("<Q", len(EMPTY_LISTS)) + EMPTY_LISTS + b"data"),
        ("shorter_than_the_length", b"\x05\x00\x00"),
    ],
)
def test_not_a_safetensors_file_has_no_autov3(hashing, tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    result = hashing.hash_file(path, block_size=65536)
    assert result.hashes["AutoV3"] is None
    assert len(result.hashes["SHA256"]) == 64 and result.bytes_read == len(data)


def test_header_exactly_filling_the_file_hashes_empty_data(hashing, tmp_path):
    path = tmp_path / "empty_tensors.safetensors"
    path.write_bytes(struct.pack("<Q", 8) + b"{}      ")
    assert hashing.hash_file(path).hashes["AutoV3"] == "E3B0C44298FC"  # sha256 of b""


def test_file_growing_while_hashed(hashing, tmp_path):
    path = tmp_path / "growing.bin"
    path.write_bytes(gen("g", 3 * MiB))

    def append(done, total):
        if done == MiB:
            with open(path, "ab") as f:
                f.write(b"more data")

    with pytest.raises(hashing.FileChangedError) as err:
        hashing.hash_file(path, block_size=MiB, progress=append)
    assert str(path) in str(err.value)


def test_file_truncated_by_another_thread(hashing, tmp_path):
    path = tmp_path / "shrinking.bin"
    path.write_bytes(gen("s", 4 * MiB))

    def truncate_elsewhere(done, total):
        if done == MiB:  # deterministic: the other thread finishes before the next read
            t = threading.Thread(target=os.truncate, args=(path, MiB + MiB // 2))
            t.start()
            t.join()

    with pytest.raises(hashing.FileChangedError, match="shorter"):
        hashing.hash_file(path, block_size=MiB, progress=truncate_elsewhere)
    # The process goes on, and the shortened file hashes fine afterwards.
    assert hashing.hash_file(path).bytes_read == MiB + MiB // 2


def test_file_truncated_by_another_process(hashing, tmp_path):
    path = tmp_path / "shrinking.bin"
    path.write_bytes(gen("s", 4 * MiB))

    def truncate_elsewhere(done, total):
        if done == 2 * MiB:
            code = f"import os; os.truncate({str(path)!r}, 0)"
            subprocess.run([sys.executable, "-c", code], check=True)

    with pytest.raises(hashing.FileChangedError):
        hashing.hash_file(path, block_size=MiB, progress=truncate_elsewhere)


def test_file_replaced_while_hashed(hashing, tmp_path):
    path = tmp_path / "model.bin"
    path.write_bytes(gen("r", 2 * MiB))
    other = tmp_path / "other.bin"
    other.write_bytes(gen("o", 2 * MiB))

    def replace(done, total):
        if done == MiB:
            os.replace(other, path)

    with pytest.raises(hashing.FileChangedError, match="replaced"):
        hashing.hash_file(path, block_size=MiB, progress=replace)


def test_same_size_rewrite_while_hashed_is_noticed_by_mtime(hashing, tmp_path):
    path = tmp_path / "model.bin"
    path.write_bytes(gen("w", 2 * MiB))

    def rewrite(done, total):
        if done == MiB:
            with open(path, "r+b") as f:
                f.write(b"changed")
            st = os.stat(path)
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))

    with pytest.raises(hashing.FileChangedError):
        hashing.hash_file(path, block_size=MiB, progress=rewrite)


@pytest.mark.parametrize("n, has_autov3", [(16 * MiB - 8, True), (16 * MiB, False)])
def test_header_size_cap_is_16_mib(hashing, tmp_path, n, has_autov3):
    # A valid JSON object padded with spaces to exactly n bytes, then some tensor data.
    header = b'{"w":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}'
    path = tmp_path / "big_header.safetensors"
    path.write_bytes(struct.pack("<Q", n) + header.ljust(n) + b"data")
    autov3 = hashing.hash_file(path).hashes["AutoV3"]
    assert (autov3 is not None) == has_autov3
    if has_autov3:
        assert autov3 == "3A6EB0790F39"  # sha256(b"data")[:12]


def test_the_density_guard_is_what_refuses_a_list_bomb():
    import json

    reader = pack_module("hashing.safetensors")
    assert isinstance(json.loads(EMPTY_LISTS), dict)  # json alone would accept it...
    with pytest.raises(reader.SafetensorsError, match="memory bomb"):  # ...the guard does not
        reader.parse_header(EMPTY_LISTS)
    real = safetensors({"ss_bucket_info": '{"buckets": {"0": {"resolution": [512, 512]}}}'}, b"")
    assert isinstance(reader.parse_header(real[8:]), dict)
