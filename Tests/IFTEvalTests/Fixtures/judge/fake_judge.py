#!/usr/bin/env python3
"""A misbehaving judge endpoint for JudgeClientTests, on 127.0.0.1 only. The first path segment
picks the behaviour: good (answers "85"), noscore (a reply without a number), garbage (not
JSON), error (HTTP 400 with an OpenAI error), flaky (503 once per prompt, then "70"), slow
(answers after 3 s), ollama (Ollama's /api/chat shape). Prints its port, exits after 120 s."""
import json, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

seen = set()
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body, kind="application/json"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        mode = self.path.strip("/").split("/")[0]
        prompt = body.get("messages", [{}])[-1].get("content", "")
        auth = self.headers.get("Authorization", "")

        def chat(text):
            return json.dumps({"choices": [{"message": {"role": "assistant", "content": text}}], "auth": auth})

        if mode == "good":
            self.reply(200, chat("85" if body.get("temperature") == 0 else "temperature was not 0"))
        elif mode == "noscore":
            self.reply(200, chat("The response is quite good."))
        elif mode == "garbage":
            self.reply(200, "<html>oops</html>", "text/html")
        elif mode == "error":
            self.reply(400, json.dumps({"error": {"message": "model 'x' not found", "type": "invalid_request_error"}}))
        elif mode == "flaky":
            with lock:
                first = prompt not in seen
                seen.add(prompt)
            self.reply(503, json.dumps({"error": {"message": "busy"}})) if first else self.reply(200, chat("Score: 70"))
        elif mode == "slow":
            time.sleep(3)
            self.reply(200, chat("50"))
        elif mode == "ollama":
            self.reply(200, json.dumps({"message": {"role": "assistant", "content": "[[7]]"}, "done": True}))
        else:
            self.reply(404, json.dumps({"error": {"message": "no such path"}}))


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
threading.Timer(120, server.shutdown).start()
server.serve_forever()
