from shouwang.core import sections  # noqa: F401
