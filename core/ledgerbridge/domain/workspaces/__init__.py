"""Workspaces a person belongs to: rules in `services`, HTTP in `controllers`, types in `schemas`."""
