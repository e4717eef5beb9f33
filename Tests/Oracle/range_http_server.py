"""A small HTTP file server for the model download tests (Tests/HATFilesTests/ModelDownloadTests.swift).

Serves FOLDER on 127.0.0.1 at a free port, which it prints on the first line of stdout. Unlike
`python3 -m http.server` it answers single byte-range requests the way Dropbox does (206 with
Content-Range, 416 when the range starts at or past the end), so resumed downloads can be tested.
  --no-ranges      ignore Range headers and send the whole file with 200 (like `python3 -m http.server`)
  --cut-first N    the first whole-file request sends the headers for the whole file, then only N
                   bytes, and closes the connection (a dropped download)
  --log FILE       appends "PATH RANGE-HEADER STATUS" per request
It exits when its stdin closes. Not an oracle: a test fixture. Standard library only.
"""
import argparse
import http.server
import os
import signal
import sys
import threading

# A child of a Swift test inherits the test thread's blocked signals; unblock them so that the
# test's terminate() (SIGTERM) ends this server.
signal.pthread_sigmask(signal.SIG_UNBLOCK, signal.valid_signals())
signal.signal(signal.SIGTERM, signal.SIG_DFL)

parser = argparse.ArgumentParser()
parser.add_argument("folder")
parser.add_argument("--no-ranges", action="store_true")
parser.add_argument("--cut-first", type=int, default=None)
parser.add_argument("--log", default=None)
args = parser.parse_args()
lock = threading.Lock()
state = {"cut_pending": args.cut_first is not None}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def record(self, status):
        if args.log:
            with lock, open(args.log, "a") as f:
                f.write("%s %s %d\n" % (self.path, self.headers.get("Range", "-"), status))

    def do_GET(self):
        name = os.path.basename(self.path.split("?", 1)[0])
        from urllib.parse import unquote
        path = os.path.join(args.folder, unquote(name))
        if not name or not os.path.isfile(path):
            self.record(404)
            body = b"<html><body>404 Not Found</body></html>"
            self.send_response(404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        data = open(path, "rb").read()
        size = len(data)
        header = self.headers.get("Range")
        if header and not args.no_ranges:
            start = int(header.split("=", 1)[1].split("-", 1)[0])
            if start >= size:
                self.record(416)
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % size)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.record(206)
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, size - 1, size))
            self.send_header("Content-Length", str(size - start))
            self.send_header("Content-Type", "application/octet-stream")
            self.end_headers()
            self.wfile.write(data[start:])
            return
        with lock:
            cut = state["cut_pending"]
            state["cut_pending"] = False
        self.record(200)
        self.send_response(200)
        self.send_header("Content-Length", str(size))
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        if cut:
            self.wfile.write(data[:args.cut_first])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(data)


def exit_when_stdin_closes():
    # The test holds our stdin open; when it ends (or crashes), stdin reaches its end and the
    # server goes too, so no server outlives its test.
    sys.stdin.buffer.read()
    os._exit(0)


threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
