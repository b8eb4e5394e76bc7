"""The client address behind reverse proxies: the sign-in locks and SMS limits count by it."""

from shouwang.core.context import client_address


def test_without_trusted_proxies_the_forwarded_header_is_ignored(settings):
    settings.TRUSTED_PROXY_HOPS = 0
    meta = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "1.2.3.4"}
    assert client_address(meta) == "10.0.0.2"


def test_one_proxy_takes_the_address_it_appended(settings):
    settings.TRUSTED_PROXY_HOPS = 1
    # The client sent its own forged header; nginx appended the real address.
    meta = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.7"}
    assert client_address(meta) == "203.0.113.7"


def test_two_proxies(settings):
    settings.TRUSTED_PROXY_HOPS = 2
    meta = {"REMOTE_ADDR": "10.0.0.3", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.7, 10.0.0.2"}
    assert client_address(meta) == "203.0.113.7"


def test_missing_header_falls_back(settings):
    settings.TRUSTED_PROXY_HOPS = 1
    assert client_address({"REMOTE_ADDR": "10.0.0.2"}) == "10.0.0.2"


def test_the_middleware_rewrites_remote_addr(client, settings, db):
    settings.TRUSTED_PROXY_HOPS = 1
    from shouwang.accounts.models import LoginFailure

    client.post(
        "/accounts/login/",
        {"username": "nobody", "password": "x"},
        HTTP_X_FORWARDED_FOR="203.0.113.9",
        REMOTE_ADDR="10.0.0.2",
    )
    assert LoginFailure.objects.get().address == "203.0.113.9"
