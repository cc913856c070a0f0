"""Failure notices reach a real SMTP server and a real HTTP webhook on 127.0.0.1."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from genesis_lab.errors import PipelineError
from genesis_lab.pipelines.notify import notify_owner
from genesis_lab.settings import load_settings


@pytest.fixture
def smtp_sink(free_port):
    from aiosmtpd.controller import Controller

    class Sink:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(envelope)
            return "250 OK"

    handler = Sink()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port)
    controller.start()
    yield handler, free_port
    controller.stop()


@pytest.fixture
def webhook_sink():
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield received, f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()
    server.server_close()


def test_email_goes_to_the_owner_through_the_configured_server(smtp_sink):
    handler, port = smtp_sink
    settings = load_settings(
        notifications={
            "smtp": {"host": "127.0.0.1", "port": port, "sender": "genesis@lab.test"},
            "emails": {"alice": "alice@lab.test"},
        }
    )
    sent = notify_owner("alice", "run failed", {"cell": 3}, settings=settings)
    assert sent == ["mailto:alice@lab.test"]
    [msg] = handler.messages
    assert msg.rcpt_tos == ["alice@lab.test"]
    assert b"run failed" in msg.content and b'"cell": 3' in msg.content


def test_webhook_gets_a_json_post(webhook_sink):
    received, url = webhook_sink
    sent = notify_owner("bob", "run failed", {"ename": "RuntimeError"},
                        settings=load_settings(notifications={"webhook": {"url": url}}))  # fmt: skip
    assert sent == [url]
    assert received == [{"owner": "bob", "subject": "run failed", "ename": "RuntimeError"}]


def test_schedule_target_takes_precedence_and_unreachable_server_is_an_error(
    webhook_sink, free_port
):
    received, url = webhook_sink
    assert notify_owner("bob", "x", {}, target=url, settings=load_settings()) == [url]
    assert len(received) == 1
    dead = load_settings(notifications={"smtp": {"host": "127.0.0.1", "port": free_port}})
    with pytest.raises(PipelineError, match=r"cannot send the notice to bob@x\.test"):
        notify_owner("bob", "x", {}, target="bob@x.test", settings=dead)
    assert notify_owner("carol", "x", {}, settings=load_settings()) == []
