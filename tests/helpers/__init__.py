"""Helpers shared by several test areas (a tiny real model, ...)."""
