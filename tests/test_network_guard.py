import socket

import pytest
import requests

from tests.network import OutboundNetworkBlocked


def test_it_refuses_a_connection_to_a_public_address():
    with pytest.raises(OutboundNetworkBlocked):
        socket.create_connection(("93.184.215.14", 443), timeout=1)


def test_it_refuses_to_resolve_a_public_name():
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get("https://account-d.docusign.com/oauth/userinfo", timeout=1)


def test_it_allows_loopback():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    try:
        client = socket.create_connection(server.getsockname(), timeout=1)
        client.close()
    finally:
        server.close()
