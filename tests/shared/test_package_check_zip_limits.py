"""A ZIP package whose table of contents no real app has is refused before ``zipfile`` reads it
(a 28 MB APK of 300,000 empty entries took 150 MB and 2.7 s of the relay's one thread)."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import pytest

from relay_server.demo_catalog import build_package
from shared import package_check
from shared.package_check import MAX_ZIP_ENTRIES, NotAPackage, inspect_package


def many_entries_apk(entries: int, announced: int | None = None, zip64: bool = False) -> bytes:
    """An APK-looking ZIP of ``entries`` empty files (``announced`` in its end record, which
    may lie), built with struct: zipfile itself would take seconds."""
    local, central = [], []
    offset = 0
    for i in range(entries):
        name = b"AndroidManifest.xml" if i == 0 else b"%x" % i
        local.append(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0) + name)
        central.append(
            struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0, 0, 0, 0, 0, offset)
            + name
        )
        offset += len(local[-1])
    directory = b"".join(central)
    count = entries if announced is None else announced
    tail = b""
    if zip64:
        zip64_at = offset + len(directory)
        tail = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, len(directory), offset)
        tail += struct.pack("<4sLQL", b"PK\x06\x07", 0, zip64_at, 1)
        count = 0xFFFF
    end = struct.pack(
        "<4s4H2LH", b"PK\x05\x06", 0, 0, min(count, 0xFFFF), min(count, 0xFFFF), len(directory), offset, 0
    )
    return b"".join(local) + directory + tail + end


@pytest.fixture
def zipfile_never_opened(monkeypatch):
    def refuse(*_args, **_kwargs):
        raise AssertionError("zipfile.ZipFile was asked to read the whole table of contents")

    monkeypatch.setattr(package_check.zipfile, "ZipFile", refuse)


@pytest.mark.parametrize(
    "apk",
    [
        pytest.param(lambda: many_entries_apk(MAX_ZIP_ENTRIES + 1, announced=0xFFFF), id="end-record-lies"),
        pytest.param(lambda: many_entries_apk(MAX_ZIP_ENTRIES + 1, zip64=True), id="zip64-says-so"),
    ],
)
def test_a_table_of_contents_no_app_has_is_refused_before_it_is_read(apk, zipfile_never_opened):
    with pytest.raises(NotAPackage) as refused:
        inspect_package(io.BytesIO(apk()), "apk")
    assert refused.value.reason == "damaged"
    assert str(refused.value).startswith(
        "This file is not an Android app (apk) a phone would install: its table of contents is far larger than any app's"
    )


def test_a_huge_table_announced_by_the_end_record_is_refused_without_reading_it(zipfile_never_opened):
    head = many_entries_apk(2)
    # The end record claims a 1 GB table of contents: refused from the record alone.
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 2, 2, 1 << 30, 0, 0)
    with pytest.raises(NotAPackage):
        inspect_package(io.BytesIO(head[:-22] + end), "apk")


def test_real_packages_and_zip64_ones_still_open(tmp_path: Path):
    apk = tmp_path / "notes.apk"
    apk.write_bytes(build_package("apk", "org.example.notes", "Notes", "3.0", 30, size=50_000))
    assert inspect_package(apk, "apk").app_id == "org.example.notes"
    # A ZIP64 archive (as large IPAs are) is measured by its ZIP64 record and still read.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("Payload/Notes.app/Info.plist", b"")
        for i in range(3):
            zf.writestr(f"Payload/Notes.app/{i}", b"x")
        zf.comment = b""
    raw = buffer.getvalue()
    assert package_check._table_of_contents_size(io.BytesIO(raw), len(raw))[0] == 4
    zip64 = many_entries_apk(3, zip64=True)
    assert package_check._table_of_contents_size(io.BytesIO(zip64), len(zip64))[:1] == (3,)
