"""This app's sections of the household page (一户一档): see shouwang/core/sections.py."""
