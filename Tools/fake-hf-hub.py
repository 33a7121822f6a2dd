#!/usr/bin/env python3
"""A small stand-in for the Hugging Face Hub on loopback, for the tests of `ift-gpu model pull hf:`.

It lays out files as the hub does (as huggingface_hub's file_download.py / hf_api.py read them):

  GET /api/models/ORG/NAME/revision/REV[?blobs=true]
      {"id", "sha": commit, "siblings": [{"rfilename", and with blobs: "size", "blobId",
       "lfs": {"sha256", "size", "pointerSize"}}]}
  GET /ORG/NAME/resolve/REV/PATH
      small files: 200 with ETag "<git blob sha1>" and X-Repo-Commit;
      LFS files (weights, tokenizer.model): 302 to http://localhost:PORT/cdn/<sha256> (another host
      name, as the hub's CDN is; no token needed there) with X-Linked-Etag "<sha256>",
      X-Linked-Size and X-Repo-Commit; /cdn/ serves the bytes (206 for a Range request).
  Errors carry X-Error-Code (RepoNotFound, RevisionNotFound, EntryNotFound) as the hub's do;
  an unknown repository is 401 without a token and 404 with one, as on the hub.

Usage:
  fake-hf-hub.py --repo ORG/NAME=DIR [--repo ...] [--token T] [--cut FILE=BYTES] [--corrupt FILE]
                 [--missing FILE] [--log requests.jsonl] [--no-range]

Prints the port it listens on (127.0.0.1, a free port) as its first line, then serves until killed.
--cut sends the first GET of FILE's bytes only up to BYTES (with the full Content-Length) and then
drops the connection; --corrupt flips one byte of FILE the first time it is served; --token makes
every request without "Authorization: Bearer T" a 401; --missing lists FILE but answers 404 for
it (EntryNotFound); --no-range ignores Range headers (200 with
the whole file). Every request is appended to --log as a JSON line (method, path, range,
authorization).
"""
import argparse
import hashlib
import json
import os
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LFS_SUFFIXES = (".safetensors", ".bin", ".model", ".pth", ".pt", ".onnx", ".gguf", ".h5", ".msgpack")


class Repo:
    def __init__(self, name, directory):
        self.name = name
        self.files = {}  # path -> bytes
        for root, _, names in os.walk(directory):
            for n in names:
                full = os.path.join(root, n)
                rel = os.path.relpath(full, directory).replace(os.sep, "/")
                with open(full, "rb") as f:
                    self.files[rel] = f.read()
        # Each file's SHA-256 and git blob id, computed once.
        self.sha256 = {p: hashlib.sha256(d).hexdigest() for p, d in self.files.items()}
        self.blob_id = {p: git_blob_sha1(d) for p, d in self.files.items()}
        digest = hashlib.sha1()
        for path in sorted(self.files):
            digest.update(path.encode() + b"\0" + self.sha256[path].encode())
        self.commit = digest.hexdigest()

    @staticmethod
    def is_lfs(path, data):
        return path.endswith(LFS_SUFFIXES) or len(data) > 10 * 1024 * 1024

    def sibling(self, path, blobs):
        data = self.files[path]
        entry = {"rfilename": path}
        if blobs:
            entry["size"] = len(data)
            if self.is_lfs(path, data):
                sha = self.sha256[path]
                entry["blobId"] = git_blob_sha1(f"oid sha256:{sha}\nsize {len(data)}\n".encode())  # the LFS pointer's
                entry["lfs"] = {"sha256": sha, "size": len(data), "pointerSize": 134}
            else:
                entry["blobId"] = self.blob_id[path]
        return entry


def git_blob_sha1(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class Hub:
    def __init__(self, args):
        self.repos = {}
        for spec in args.repo:
            name, directory = spec.split("=", 1)
            self.repos[name] = Repo(name, directory)
        self.token = args.token
        self.cut = {}
        for spec in args.cut:
            path, count = spec.rsplit("=", 1)
            self.cut[path] = int(count)
        self.corrupt = set(args.corrupt)
        self.missing = set(args.missing)
        self.ranges = not args.no_range
        self.log_path = args.log
        self.lock = threading.Lock()
        self.blobs = {}  # sha256 -> (repo, path)
        for repo in self.repos.values():
            for path in repo.files:
                self.blobs[repo.sha256[path]] = (repo, path)

    def log(self, entry):
        if self.log_path:
            with self.lock, open(self.log_path, "a") as f:
                f.write(json.dumps(entry) + "\n")

    def take_once(self, table, path):
        """True (and forgets it) the first time `path` is asked for in `table`."""
        with self.lock:
            if isinstance(table, dict):
                return table.pop(path, None)
            if path in table:
                table.discard(path)
                return True
            return None


class Handler(BaseHTTPRequestHandler):
    hub = None

    def log_message(self, *args):
        pass

    def write(self, data):
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_HEAD(self):
        self.do_GET()

    def error(self, status, code=None, message=None):
        body = json.dumps({"error": message or code or "error"}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if code:
            self.send_header("X-Error-Code", code)
        if message:
            self.send_header("X-Error-Message", message)
        self.end_headers()
        self.write(body)

    def do_GET(self):
        hub = self.hub
        url = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(url.path)
        auth = self.headers.get("Authorization")
        hub.log({"method": self.command, "path": path, "range": self.headers.get("Range"), "authorization": auth})
        authorized = hub.token is None or auth == f"Bearer {hub.token}" or path.startswith("/cdn/")
        if not authorized:
            message = "Invalid credentials in Authorization header" if auth else "Access to this repository is restricted"
            return self.error(401, "GatedRepo" if not auth else None, message)
        parts = path.strip("/").split("/")
        if path.startswith("/cdn/"):
            found = hub.blobs.get(parts[1])
            if not found:
                return self.error(404, "EntryNotFound")
            repo, file = found
            return self.send_file(repo, file, lfs_redirected=True)
        if parts[:2] == ["api", "models"] and len(parts) >= 6 and parts[4] == "revision":
            repo = self.repo("/".join(parts[2:4]), auth)
            if repo is None:
                return
            revision = "/".join(parts[5:])
            if revision not in ("main", repo.commit):
                return self.error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
            blobs = urllib.parse.parse_qs(url.query).get("blobs") == ["true"]
            body = json.dumps({
                "id": repo.name, "modelId": repo.name, "sha": repo.commit,
                "siblings": [repo.sibling(p, blobs) for p in sorted(repo.files)],
            }).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.write(body)
            return
        if len(parts) >= 5 and parts[2] == "resolve":
            repo = self.repo("/".join(parts[:2]), auth)
            if repo is None:
                return
            revision, file = parts[3], "/".join(parts[4:])
            if revision not in ("main", repo.commit):
                return self.error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
            if file not in repo.files or file in hub.missing:
                return self.error(404, "EntryNotFound", f"{file} does not exist on \"{revision}\"")
            data = repo.files[file]
            if Repo.is_lfs(file, data):
                sha = repo.sha256[file]
                self.send_response(302)
                # Another host name for the same server, as the hub's CDN is another host: clients
                # must not send it the token (the link is what grants access).
                port = self.server.server_address[1]
                cdn = f"localhost:{port}" if (self.headers.get("Host") or "").startswith("127.") else f"127.0.0.1:{port}"
                self.send_header("Location", f"http://{cdn}/cdn/{sha}?name={urllib.parse.quote(file)}")
                self.send_header("X-Repo-Commit", repo.commit)
                self.send_header("X-Linked-Etag", f'"{sha}"')
                self.send_header("X-Linked-Size", str(len(data)))
                self.send_header("ETag", f'"{repo.blob_id[file]}"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            return self.send_file(repo, file, lfs_redirected=False)
        self.error(404, None, "not found")

    def repo(self, name, auth):
        repo = self.hub.repos.get(name)
        if repo is None:
            # As the hub: a missing repository looks like a private one to an anonymous caller.
            self.error(404 if auth else 401, "RepoNotFound", "Repository not found")
        return repo

    def send_file(self, repo, file, lfs_redirected):
        hub = self.hub
        data = repo.files[file]
        if hub.take_once(hub.corrupt, file):
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        start = 0
        requested = self.headers.get("Range")
        if requested and hub.ranges and requested.startswith("bytes=") and requested.endswith("-"):
            start = int(requested[len("bytes="):-1])
            if start >= len(data):
                return self.error(416, None, "Range Not Satisfiable")
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data) - start))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", f'"{repo.sha256[file]}"' if lfs_redirected else f'"{repo.blob_id[file]}"')
        if not lfs_redirected:
            self.send_header("X-Repo-Commit", repo.commit)
        self.end_headers()
        cut = hub.take_once(hub.cut, file)
        if cut is not None:
            self.write(data[start:start + cut])
            self.wfile.flush()
            self.close_connection = True
            return
        self.write(data[start:])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", action="append", default=[], help="ORG/NAME=DIR: a repository and its files")
    parser.add_argument("--token", help="the token every request must carry")
    parser.add_argument("--cut", action="append", default=[], help="FILE=BYTES: cut FILE's first download")
    parser.add_argument("--corrupt", action="append", default=[], help="FILE: corrupt FILE's first download")
    parser.add_argument("--missing", action="append", default=[], help="FILE: list it, but answer 404 for it")
    parser.add_argument("--no-range", action="store_true", help="ignore Range headers")
    parser.add_argument("--log", help="append each request as a JSON line here")
    args = parser.parse_args()
    Handler.hub = Hub(args)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
