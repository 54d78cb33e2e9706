#!/ usr / bin / env python3
"""A canned HTTP server for tests: serves the files under DIR on 127.0.0.1.

Prints the port it listens on (an ephemeral one) as one line on stdout, then serves until killed.
A request's path (its query left out) names a file under DIR; a missing file is a 404. Each
request is appended to --log as one line: "<path with query>\t<User-Agent>".

  --delay SECONDS   wait this long before answering (a server that hangs)
  --status CODE     answer every request with this status and an empty body
  --redirect FROM=LOCATION   answer FROM (a path) with a 302 to LOCATION
"""

import argparse
import http.server
import os
import sys
import time
import urllib.parse


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--status", type=int, default=0)
    parser.add_argument("--redirect", action="append", default=[])
    parser.add_argument("--log", default=os.devnull)
    args = parser.parse_args()
    root = os.path.realpath(args.dir)
    redirects = dict(r.split("=", 1) for r in args.redirect)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            with open(args.log, "a") as log:
                log.write("%s\t%s\n" % (self.path, self.headers.get("User-Agent", "")))
            if args.delay:
                time.sleep(args.delay)
            path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
            if path in redirects:
                self.answer(302, b"", {"Location": redirects[path]})
                return
            if args.status:
                self.answer(args.status, b"")
                return
            file = os.path.realpath(os.path.join(root, path.lstrip("/")))
            if not file.startswith(root + os.sep) or not os.path.isfile(file):
                self.answer(404, b'{"error": "Not Found"}')
                return
            with open(file, "rb") as f:
                self.answer(200, f.read())

        def answer(self, status, body, headers=None):
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
