#!/usr/bin/env python3
"""A tiny offline HTTP target for the Ringwatch demo cluster (scripts/cluster.sh starts it).

    python3 scripts/demo-target.py [--host 127.0.0.1] [--port 8099]

Paths:
    /ok, /ok/<anything>   200 "ok"
    /fail                 500
    /slow                 sleeps 3 s, then 200
    /flaky                alternates 200 and 503, one request after the other
    /stats                JSON: requests served per path since start (handy to watch failover)
    anything else         404

Standard library only; one thread per request, so /slow never holds up the others.
"""

import argparse
import json
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
HITS = {}
FLAKY = {"n": 0}


class Handler(BaseHTTPRequestHandler):
    server_version = "ringwatch-demo-target/1"
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        with LOCK:
            HITS[path] = HITS.get(path, 0) + 1
        if path == "/ok" or path.startswith("/ok/"):
            self.reply(200, "ok\n")
        elif path == "/fail":
            self.reply(500, "failing on purpose\n")
        elif path == "/slow":
            time.sleep(3)
            self.reply(200, "ok, slowly\n")
        elif path == "/flaky":
            with LOCK:
                FLAKY["n"] += 1
                good = FLAKY["n"] % 2 == 1
            self.reply(200 if good else 503, "ok\n" if good else "flaked\n")
        elif path == "/stats":
            with LOCK:
                body = json.dumps(HITS, sort_keys=True, indent=1) + "\n"
            self.reply(200, body, "application/json")
        else:
            self.reply(404, "try /ok /fail /slow /flaky /stats\n")

    def do_HEAD(self):
        self.do_GET()

    def reply(self, code, body, ctype="text/plain; charset=utf-8"):
        data = body.encode()
        try:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the prober gave up (timeout); nothing to do
        self.close_connection = True

    def log_message(self, fmt, *args):
        pass  # one line per probe would drown the log; see /stats instead


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8099)
    args = ap.parse_args()
    try:
        srv = ThreadingHTTPServer((args.host, args.port), Handler)
    except OSError as e:
        print(f"demo-target: cannot listen on {args.host}:{args.port}: {e}", file=sys.stderr)
        return 1
    srv.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"demo target listening on http://{args.host}:{args.port}/", flush=True)
    try:
        srv.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
