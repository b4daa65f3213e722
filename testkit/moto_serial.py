"""moto's server with its requests served one at a time, bound to loopback.

moto's DynamoDB conditional writes are not atomic under concurrent requests (measured: several
winners in some rounds of 30 racing conditional updates). Real DynamoDB is, and the race tests
assert it, so the emulator is serialised here: a lock around moto's WSGI app. It also exits
when the process that started it goes away, so a killed test run leaves no emulator behind.
"""

import os
import sys
import threading
import time

from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


def main() -> None:
    port = int(sys.argv[1])
    parent = os.getppid()
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serialised(environ, start_response):
        with lock:
            # Materialise the body inside the lock: the work happens while iterating.
            return list(app(environ, start_response))

    def watch_parent() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(0)
            time.sleep(0.5)

    threading.Thread(target=watch_parent, daemon=True).start()
    run_simple("127.0.0.1", port, serialised, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
