"""scripts/load-client.py against a scripted /customTransform server: retries as rudder-server
(809, 5xx, dropped connections), giving up, final statuses, lost and twice-answered events.

    python3 -m unittest discover --start-directory Tests/Scripts --pattern 'test_*.py'
"""
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import unittest

CLIENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "load-client.py")


class ScriptedServer:
    """Answers the n-th /customTransform request as `script[n]` says (the last entry repeats):
    `ok` (every event's output, stamped v1), `ok-v2` (stamped v2), `ok-different` (v1, another
    output), `ok-missing-first` (no item for the batch's first event), `drop` (closes the
    connection without an answer), or an HTTP status."""

    def __init__(self, script):
        self.script = script
        self.requests = 0
        self.lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    step = server.script[min(server.requests, len(server.script) - 1)]
                    server.requests += 1
                if step == "drop":
                    self.close_connection = True
                    return
                if not step.startswith("ok"):
                    self.answer(int(step), b'{"error": "scripted"}')
                    return
                items = []
                for index, event in enumerate(body):
                    if step == "ok-missing-first" and index == 0:
                        continue
                    output = dict(event["message"], transformedBy="v2" if step == "ok-v2" else "v1")
                    if step == "ok-different":
                        output["extra"] = True
                    items.append({"output": output, "metadata": event["metadata"], "statusCode": 200})
                self.answer(200, json.dumps(items).encode())

            def answer(self, status, data):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("X-Instance-ID", "fake/1")
                self.end_headers()
                self.wfile.write(data)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"


def run_client(server, *options):
    with tempfile.TemporaryDirectory() as folder:
        result_path = os.path.join(folder, "result.json")
        process = subprocess.run(
            [sys.executable, CLIENT, "--url", server.url, "--version-id", "t", "--builtin-events",
             "--senders", "1", "--initial-backoff", "0.01", "--max-backoff", "0.05", "--quiet",
             "--json", result_path, *options],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        with open(result_path) as handle:
            return process.returncode, json.load(handle)


class LoadClientTests(unittest.TestCase):
    def test_retries_809_5xx_and_dropped_connections_until_answered(self):
        with ScriptedServer(["809", "503", "drop", "ok"]) as server:
            status, result = run_client(server, "--events", "400")
        self.assertEqual(status, 0)
        self.assertEqual((result["sent"], result["answered"], result["lost"]), (400, 400, 0))
        self.assertEqual(result["attempt_outcomes"], {"200": 2, "503": 1, "809": 1, "RemoteDisconnected": 1})
        self.assertEqual((result["events_retried"], result["max_attempts"]), (200, 4))
        self.assertEqual(result["replicas"], {"fake": 400})
        self.assertEqual(sum(b["versions"].get("v1", 0) for b in result["versions_per_second"]), 400)

    def test_a_batch_is_given_up_after_max_retries_and_its_events_are_lost(self):
        with ScriptedServer(["502"]) as server:
            status, result = run_client(server, "--events", "200", "--max-retries", "2", "--check")
        self.assertEqual(status, 1)
        self.assertEqual((result["answered"], result["lost"], result["lost_batches_given_up"]), (0, 200, 1))
        self.assertEqual(result["requests"], 3)

    def test_809_is_retried_past_max_retries(self):
        with ScriptedServer(["809", "809", "809", "809", "ok"]) as server:
            status, result = run_client(server, "--events", "200", "--max-retries", "1")
        self.assertEqual((status, result["lost"], result["max_attempts"]), (0, 0, 5))

    def test_final_statuses_are_not_retried(self):
        with ScriptedServer(["400"]) as server:
            status, result = run_client(server, "--events", "200")
        self.assertEqual((result["requests"], result["answered"], result["lost"]), (1, 200, 0))
        self.assertEqual(result["items"]["errors"], 200)

    def test_an_event_a_200_answer_has_no_item_for_is_lost(self):
        with ScriptedServer(["ok-missing-first"]) as server:
            status, result = run_client(server, "--events", "200", "--check")
        self.assertEqual(status, 1)
        self.assertEqual((result["answered"], result["lost"], result["lost_missing_from_answer"]), (199, 1, 1))

    def test_events_sent_twice_are_compared(self):
        cases = {("ok", "ok"): (200, 0, 0), ("ok", "ok-v2"): (0, 200, 0), ("ok", "ok-different"): (0, 0, 200)}
        for script, (same, other_version, different) in cases.items():
            with ScriptedServer(list(script)) as server:
                status, result = run_client(server, "--events", "200", "--repeat-share", "1", "--check")
            repeats = result["repeats"]
            self.assertEqual((repeats["same"], repeats["other_version"], repeats["different"]),
                             (same, other_version, different), script)
            self.assertEqual(result["answered_twice_different"], different)
            self.assertEqual(status, 1 if different else 0)


if __name__ == "__main__":
    unittest.main()
