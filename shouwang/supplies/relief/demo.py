def demo_relief(community, admin, *, log=print) -> None:
    """The demo community's relief data (filled in with the app)."""
