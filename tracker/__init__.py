"""Statehouse AI Tracker: what changed in US AI legislation."""

__version__ = "0.1.0"
