"""Deliver: subscriptions, email digests and exports, read from stored rows only (issue #13)."""
