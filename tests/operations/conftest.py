"""Operations fixtures: /metrics read as Prometheus reads it, and the Connect listener's fixtures."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.connect.conftest import acme_organization, no_remembered_keys, partner_key  # noqa: F401  (fixtures)
from tests.outbound.conftest import endpoint, organization, receiver, runner  # noqa: F401  (fixtures)

METRICS_TOKEN = "metrics-token-for-tests-0123456789"


@pytest.fixture
def metrics_on(settings) -> str:
    settings.PORTAL_METRICS_TOKEN = METRICS_TOKEN
    return METRICS_TOKEN


class Scrape:
    """One answer of /metrics: each sample by name and labels."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.samples = {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
                        for family in text_string_to_metric_families(text) for sample in family.samples}

    def value(self, name: str, **labels: str) -> float:
        return self.samples.get((name, tuple(sorted(labels.items()))), 0.0)

    def series(self) -> int:
        return len(self.samples)


@pytest.fixture
def scrape(client, metrics_on, db):  # the scrape reads counts from the database
    def read() -> Scrape:
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {metrics_on}")
        assert response.status_code == 200, response.status_code
        return Scrape(response.content.decode())

    return read
