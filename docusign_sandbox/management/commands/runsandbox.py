"""`manage.py runsandbox [ADDR:PORT] [--control]`: serve the DocuSign sandbox on its own origin."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.servers.basehttp import ThreadedWSGIServer

from docusign_sandbox.server import SandboxHandler, SandboxRequestHandler


class Command(BaseCommand):
    help = ("Serve the offline DocuSign sandbox (account server and eSignature REST) at DocuSign's own paths. "
            "--control also serves its control API and console under /_sandbox/ (as DOCUSIGN_SANDBOX_CONTROL=true).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("addrport", nargs="?", default="localhost:8001", help="ADDR:PORT (default localhost:8001)")
        parser.add_argument("--control", action="store_true",
                            help="serve /_sandbox/ (faults, clock, recipients' actions, the console); off by default")

    def handle(self, *args: Any, addrport: str, control: bool, **options: Any) -> None:
        host, _, port = addrport.rpartition(":")
        if not port.isdigit():
            raise CommandError("Give ADDR:PORT, for example localhost:8001.")
        host = host or "localhost"
        if control:
            settings.DOCUSIGN_SANDBOX_CONTROL = True  # this process serves nothing else; set before the first request
        httpd = ThreadedWSGIServer((host, int(port)), SandboxRequestHandler)
        httpd.daemon_threads = True
        httpd.set_app(SandboxHandler())
        console = f"console: http://{host}:{port}/_sandbox/" if settings.DOCUSIGN_SANDBOX_CONTROL else "no console"
        self.stdout.write(f"DocuSign sandbox at http://{host}:{port}/  ({console})")
        try:
            httpd.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            httpd.server_close()
