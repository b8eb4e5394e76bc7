def demo_buying(community, admin, *, log=print) -> None:
    """The demo community's buying data (filled in with the app)."""
