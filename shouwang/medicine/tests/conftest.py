import pytest


@pytest.fixture
def client(client):
    """Pages in English, the language these tests read (the interface is zh-Hans by default)."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client
