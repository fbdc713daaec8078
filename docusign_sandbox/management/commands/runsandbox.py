"""`manage.py runsandbox [ADDR:PORT]`: serve the DocuSign sandbox on its own origin."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.core.servers.basehttp import ThreadedWSGIServer

from docusign_sandbox.server import SandboxHandler, SandboxRequestHandler


class Command(BaseCommand):
    help = "Serve the offline DocuSign sandbox (account server and eSignature REST) at DocuSign's own paths."

    def add_arguments(self, parser) -> None:
        parser.add_argument("addrport", nargs="?", default="localhost:8001", help="ADDR:PORT (default localhost:8001)")

    def handle(self, *args, addrport: str, **options) -> None:
        host, _, port = addrport.rpartition(":")
        if not port.isdigit():
            raise CommandError("Give ADDR:PORT, for example localhost:8001.")
        host = host or "localhost"
        httpd = ThreadedWSGIServer((host, int(port)), SandboxRequestHandler)
        httpd.daemon_threads = True
        httpd.set_app(SandboxHandler())
        self.stdout.write(f"DocuSign sandbox at http://{host}:{port}/  (console: http://{host}:{port}/_sandbox/)")
        try:
            httpd.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            httpd.server_close()
