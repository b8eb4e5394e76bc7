"""The queue's sections of the household pages (see shouwang.core.sections)."""
