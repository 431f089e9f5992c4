"""Serve a partner's HTTP stub on 127.0.0.1 in a thread, stop it, and start it again on the
same port (to play the partner being down and coming back). Shared by the FHIR and social care
stubs, whose objects keep the running server in ``stub.server``."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def serve(stub: Any, handler: type[BaseHTTPRequestHandler], port: int = 0) -> None:
    stub.server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=stub.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()


def stop(stub: Any) -> None:
    if stub.server is not None:
        stub.server.shutdown()
        stub.server.server_close()
