"""Small real HTTP servers for tests on 127.0.0.1: a plain folder, and a slow one with Range."""

from __future__ import annotations

import functools
import http.server
import threading
import time
from pathlib import Path


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep test output clean
        pass


class FileServer:
    """Serves ``root`` on a free loopback port until closed."""

    def __init__(self, root: Path):
        handler = functools.partial(_QuietHandler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}"

    def __enter__(self) -> "FileServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


class ThrottledFileServer(FileServer):
    """Like FileServer, but sends file bodies at about ``bytes_per_second`` (a slow store).

    Range requests are honoured (single ranges), so a client can resume from it.
    """

    def __init__(self, root: Path, bytes_per_second: int):
        super().__init__(root)
        self.httpd.RequestHandlerClass = functools.partial(_ThrottledHandler, directory=str(root),
                                                           rate=bytes_per_second)
        self.httpd.range_log = []  # the Range header of every GET ("" when none), in order

    @property
    def range_log(self) -> list[str]:
        return self.httpd.range_log


class _ThrottledHandler(_QuietHandler):
    def __init__(self, *args, rate: int, **kwargs):
        self.rate = rate
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404)
            return
        size = path.stat().st_size
        start, end = 0, size - 1
        header = self.headers.get("Range", "")
        self.server.range_log.append(header)
        etag = f'"{size}-{int(path.stat().st_mtime)}"'
        if header.startswith("bytes=") and self.headers.get("If-Range", etag) == etag:
            first, _, last = header[6:].partition("-")
            start = int(first) if first else max(0, size - int(last))
            end = int(last) if (first and last) else size - 1
            if start >= size:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        else:
            self.send_response(200)
        self.send_header("Content-Type", "application/vnd.android.package-archive")
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", etag)
        self.end_headers()
        chunk = max(1024, self.rate // 20)
        with open(path, "rb") as fileobj:
            fileobj.seek(start)
            remaining = end - start + 1
            try:
                while remaining > 0:
                    data = fileobj.read(min(chunk, remaining))
                    self.wfile.write(data)
                    remaining -= len(data)
                    time.sleep(len(data) / self.rate)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client paused or went away: that is what resuming is for
