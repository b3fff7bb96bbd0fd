"""Pluggable data-space apps (catalogue, marketplace, compute) that the gateway mounts."""
