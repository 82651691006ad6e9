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
    ``hold(name, after)`` makes it stop sending that file at byte ``after`` until ``release()``:
    a download is then certainly mid-way while a test acts on it, however busy the machine.
    """

    def __init__(self, root: Path, bytes_per_second: int):
        super().__init__(root)
        self.httpd.RequestHandlerClass = functools.partial(
            _ThrottledHandler, directory=str(root), rate=bytes_per_second
        )
        self.httpd.range_log = []  # the Range header of every GET ("" when none), in order
        self.httpd.hold = None

    @property
    def range_log(self) -> list[str]:
        return self.httpd.range_log

    def hold(self, name: str, after: int) -> "_Hold":
        """From now on, responses for the file ``name`` wait at byte ``after`` until ``release()``."""
        self.httpd.hold = _Hold(name, after)
        return self.httpd.hold

    def release(self) -> None:
        """Let held responses go on (and hold nothing any more)."""
        hold, self.httpd.hold = self.httpd.hold, None
        if hold is not None:
            hold.released.set()

    def __exit__(self, *exc) -> None:
        self.release()
        super().__exit__(*exc)


class _Hold:
    def __init__(self, name: str, after: int):
        self.name = name
        self.after = after
        self.reached = threading.Event()  # a response is waiting at ``after``
        self.released = threading.Event()

    def wait_at(self, name: str, position: int) -> None:
        if name == self.name and position >= self.after and not self.released.is_set():
            self.reached.set()
            self.released.wait()


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
                    hold = self.server.hold
                    if hold is not None:
                        hold.wait_at(path.name, end + 1 - remaining)
                    data = fileobj.read(min(chunk, remaining))
                    self.wfile.write(data)
                    remaining -= len(data)
                    time.sleep(len(data) / self.rate)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client paused or went away: that is what resuming is for
