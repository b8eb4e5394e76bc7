def demo_materials(community, admin, *, log=print) -> None:
    """The demo community's materials data (filled in with the app)."""
