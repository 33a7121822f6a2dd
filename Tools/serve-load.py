#!/usr/bin/env python3
"""`ift-gpu serve` under hostile load (not part of the test suite; standard library only).

    python3 Tools/serve-load.py [--bin .build/release/ift-gpu] [--model Tests/CLITests/Fixtures/tiny.gguf]
                                [--stalled 300] [--concurrent 100]

Starts the server on a free loopback port (cpu-ref, --max-batch 8, --max-queue 16), then:
  1. opens --stalled connections that send half a request's headers and then nothing, and one that
     promises a 1 MB body and sends ten bytes of it; a normal request must still be answered;
  2. an oversized body (5 MB) must get 413, a malformed one 400, a wrong path 404, each as
     OpenAI-style JSON ({"error": {"message": ...}});
  3. --concurrent requests at once: each must get 200 or 503 (the bounded queue), 503s with a JSON
     error; the server's peak resident memory is reported;
  4. after all that, one more normal request must succeed, and SIGTERM must stop the server.
Exits non-zero when any check fails.
"""
import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def request(port, body, path="/v1/completions", method="POST"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    start = time.time()
    c.request(method, path, body=body, headers={"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, time.time() - start, data


def json_error(data) -> bool:
    try:
        return isinstance(json.loads(data)["error"]["message"], str)
    except Exception:
        return False


def peak_rss_mb(pid) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, ".build/release/ift-gpu"))
    ap.add_argument("--model", default=os.path.join(ROOT, "Tests/CLITests/Fixtures/tiny.gguf"))
    ap.add_argument("--stalled", type=int, default=300)
    ap.add_argument("--concurrent", type=int, default=100)
    a = ap.parse_args()
    port = free_port()
    server = subprocess.Popen(
        [a.bin, "serve", "--model", a.model, "--backend", "cpu-ref", "--port", str(port), "--max-batch", "8", "--max-queue", "16"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    failures = []

    def check(ok, what):
        print(("ok    " if ok else "FAIL  ") + what)
        if not ok:
            failures.append(what)

    try:
        deadline = time.time() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    print("the server did not start:", server.stdout.read() if server.poll() is not None else "")
                    return 1
                time.sleep(0.1)
        normal = json.dumps({"prompt": "hello", "max_tokens": 4})
        stalled = []
        for _ in range(a.stalled):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n")
            stalled.append(s)
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{\"prompt\":")
        stalled.append(s)
        status, seconds, _ = request(port, normal)
        check(status == 200, f"answered with {len(stalled)} stalled connections open: {status} in {seconds:.2f} s")
        status, _, data = request(port, b'{"prompt": "' + b"x" * (5 << 20) + b'"}')
        check(status == 413 and json_error(data), f"5 MB body: {status} {data[:90]!r}")
        status, _, data = request(port, b'{"prompt": ')
        check(status == 400 and json_error(data), f"malformed JSON: {status} {data[:90]!r}")
        status, _, data = request(port, normal, path="/v1/nowhere")
        check(status == 404 and json_error(data), f"unknown path: {status} {data[:90]!r}")
        results = []
        lock = threading.Lock()

        def worker():
            r = request(port, json.dumps({"prompt": "hello there", "max_tokens": 16}))
            with lock:
                results.append(r)

        threads = [threading.Thread(target=worker) for _ in range(a.concurrent)]
        start = time.time()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        counts = Counter(r[0] for r in results)
        busy_json = all(json_error(r[2]) for r in results if r[0] == 503)
        check(set(counts) <= {200, 503} and busy_json,
              f"{a.concurrent} concurrent requests in {time.time() - start:.2f} s: {dict(counts)} (503s as JSON errors: {busy_json})")
        for s in stalled:
            s.close()
        status, _, _ = request(port, normal)
        check(status == 200, f"answered after the load: {status}")
        print(f"server peak resident memory: {peak_rss_mb(server.pid):.0f} MB")
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=60)
        check(code == 0, f"stopped on SIGTERM with exit status {code}")
    finally:
        if server.poll() is None:
            server.kill()
    print("serve-load:", "PASSED" if not failures else f"FAILED ({len(failures)})")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
