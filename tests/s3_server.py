"""A real S3-compatible server on loopback for tests: moto's server app under werkzeug, in a thread.

It is moto's standalone server (the app ``moto.server.ThreadedMotoServer`` runs), wrapped in one
switch: ``hold_put(suffix)`` makes the next PUT of an object ending in ``suffix`` wait, so a test
can kill the writer at that exact step; the held request is then dropped, never applied, as if the
writer had died before it was sent.
"""

from __future__ import annotations

import logging
import threading

from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
               "AWS_EC2_METADATA_DISABLED": "true"}


class S3Server:
    def __init__(self) -> None:
        self._app = DomainDispatcherApplication(create_backend_app)
        self._hold: str | None = None
        self.held = threading.Event()  # a PUT is being held
        self._release = threading.Event()
        self._server = make_server("127.0.0.1", 0, self, threaded=True)
        self.endpoint = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise

    def __call__(self, environ, start_response):
        if self._hold and environ["REQUEST_METHOD"] == "PUT" and environ["PATH_INFO"].endswith(self._hold):
            self._hold = None
            self.held.set()
            self._release.wait(120)
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"dropped by the test: the writer died before this request"]
        return self._app(environ, start_response)

    def hold_put(self, suffix: str) -> None:
        self.held.clear()
        self._release.clear()
        self._hold = suffix

    def release(self) -> None:
        self._hold = None
        self._release.set()

    def start(self) -> S3Server:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release()
        self._server.shutdown()
        self._thread.join(timeout=10)
