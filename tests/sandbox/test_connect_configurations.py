"""Connect configuration REST of the sandbox, over loopback HTTP (docs/docusign.md §7.1, §11.7)."""

from __future__ import annotations

import requests

from docusign_sandbox.models import ConnectConfiguration


def _config(**fields: object) -> dict:
    return {"configurationType": "custom", "name": "Portal listener", "urlToPublishTo": "https://portal.example/hook",
            "events": ["envelope-completed"], "eventData": {"version": "restv2.1"}, **fields}


def test_create_answers_201_with_connect_id_and_string_typed_defaults(bare_sandbox, sandbox_member):
    admin = sandbox_member()

    response = requests.post(f"{bare_sandbox.rest(admin.account)}/connect", headers=admin.headers,
                             json=_config(includeHMAC=True, requiresAcknowledgement=True), timeout=10)

    assert response.status_code == 201
    body = response.json()
    assert body["connectId"] == str(ConnectConfiguration.objects.get().pk)
    assert body["allowEnvelopePublish"] == "false"
    assert body["includeHMAC"] == "true" and body["requiresAcknowledgement"] == "true"
    assert body["events"] == ["envelope-completed"] and body["eventData"] == {"version": "restv2.1"}


def test_get_by_id_returns_the_list_wrapper_with_one_item(bare_sandbox, sandbox_member):
    admin = sandbox_member()
    base = f"{bare_sandbox.rest(admin.account)}/connect"
    first = requests.post(base, headers=admin.headers, json=_config(), timeout=10).json()
    requests.post(base, headers=admin.headers, json=_config(name="Second"), timeout=10)

    one = requests.get(f"{base}/{first['connectId']}", headers=admin.headers, timeout=10)
    listed = requests.get(base, headers=admin.headers, timeout=10)

    assert one.status_code == 200
    assert one.json() == {"configurations": [first], "totalRecords": "1"}
    assert [c["name"] for c in listed.json()["configurations"]] == ["Portal listener", "Second"]
    assert listed.json()["totalRecords"] == "2"


def test_put_on_the_collection_updates_the_configuration_named_in_the_body(bare_sandbox, sandbox_member):
    admin = sandbox_member()
    base = f"{bare_sandbox.rest(admin.account)}/connect"
    created = requests.post(base, headers=admin.headers, json=_config(), timeout=10).json()

    response = requests.put(base, headers=admin.headers, timeout=10,
                            json={"connectId": created["connectId"], "allowEnvelopePublish": True, "pausePublish": "false"})

    assert response.status_code == 200
    assert response.json()["allowEnvelopePublish"] == "true"
    assert response.json()["name"] == "Portal listener"  # fields left out of the PUT are kept
    stored = requests.get(f"{base}/{created['connectId']}", headers=admin.headers, timeout=10).json()
    assert stored["configurations"][0]["allowEnvelopePublish"] == "true"


def test_delete_answers_200_with_an_empty_body_and_the_configuration_is_gone(bare_sandbox, sandbox_member):
    admin = sandbox_member()
    base = f"{bare_sandbox.rest(admin.account)}/connect"
    created = requests.post(base, headers=admin.headers, json=_config(), timeout=10).json()

    response = requests.delete(f"{base}/{created['connectId']}", headers=admin.headers, timeout=10)

    assert response.status_code == 200 and response.content == b""
    gone = requests.get(f"{base}/{created['connectId']}", headers=admin.headers, timeout=10)
    assert gone.status_code == 400 and gone.json()["errorCode"] == "CONNECT_CONFIGURATION_NOT_FOUND"


def test_a_non_admin_is_refused_and_nothing_changes(bare_sandbox, sandbox_member):
    admin = sandbox_member()
    sender = sandbox_member(admin.account, admin=False)
    base = f"{bare_sandbox.rest(admin.account)}/connect"
    created = requests.post(base, headers=admin.headers, json=_config(), timeout=10).json()

    attempts = [
        requests.post(base, headers=sender.headers, json=_config(name="Mine"), timeout=10),
        requests.put(base, headers=sender.headers, json={"connectId": created["connectId"], "name": "Mine"}, timeout=10),
        requests.delete(f"{base}/{created['connectId']}", headers=sender.headers, timeout=10),
        requests.get(base, headers=sender.headers, timeout=10),
    ]

    assert {r.status_code for r in attempts} == {400}
    assert {r.json()["errorCode"] for r in attempts} == {"USER_LACKS_PERMISSIONS"}
    assert list(ConnectConfiguration.objects.values_list("body__name", flat=True)) == ["Portal listener"]


def test_an_account_without_connect_is_refused(bare_sandbox, sandbox_member):
    admin = sandbox_member()
    admin.account.settings = {"envelopeIntegrationEnabled": "false"}
    admin.account.save()

    response = requests.post(f"{bare_sandbox.rest(admin.account)}/connect", headers=admin.headers, json=_config(),
                             timeout=10)

    assert response.status_code == 400
    assert response.json()["errorCode"] == "CONNECT_NOT_ENABLED"
    assert not ConnectConfiguration.objects.exists()


def test_name_and_configuration_type_are_required(bare_sandbox, sandbox_member):
    admin = sandbox_member()
    base = f"{bare_sandbox.rest(admin.account)}/connect"

    without_name = requests.post(base, headers=admin.headers, json=_config(name=""), timeout=10)
    without_type = requests.post(base, headers=admin.headers, json=_config(configurationType=None), timeout=10)

    assert "'name' is required" in without_name.json()["message"]
    assert "'configurationType' is required" in without_type.json()["message"]
    assert not ConnectConfiguration.objects.exists()


def test_the_listener_must_be_https_except_on_this_machine(bare_sandbox, sandbox_member):
    admin = sandbox_member()
    base = f"{bare_sandbox.rest(admin.account)}/connect"

    plain = requests.post(base, headers=admin.headers, json=_config(urlToPublishTo="http://portal.example/hook"), timeout=10)
    loopback = requests.post(base, headers=admin.headers, json=_config(urlToPublishTo="http://127.0.0.1:8000/hook"),
                             timeout=10)
    localhost = requests.post(base, headers=admin.headers, json=_config(urlToPublishTo="http://localhost:8000/hook"),
                              timeout=10)

    assert plain.status_code == 400 and "https://" in plain.json()["message"]
    assert loopback.status_code == 201 and localhost.status_code == 201


def test_an_account_holds_at_most_twenty_configurations(bare_sandbox, sandbox_member):
    admin = sandbox_member()
    base = f"{bare_sandbox.rest(admin.account)}/connect"
    statuses = [requests.post(base, headers=admin.headers, json=_config(name=f"C{n}"), timeout=10).status_code
                for n in range(21)]

    assert statuses == [201] * 20 + [400]
    assert ConnectConfiguration.objects.count() == 20


def test_another_accounts_configuration_is_not_found(bare_sandbox, sandbox_member):
    owner, stranger = sandbox_member(), sandbox_member()
    created = requests.post(f"{bare_sandbox.rest(owner.account)}/connect", headers=owner.headers, json=_config(),
                            timeout=10).json()

    response = requests.delete(f"{bare_sandbox.rest(stranger.account)}/connect/{created['connectId']}",
                               headers=stranger.headers, timeout=10)

    assert response.json()["errorCode"] == "CONNECT_CONFIGURATION_NOT_FOUND"
    assert ConnectConfiguration.objects.filter(pk=created["connectId"]).exists()
