"""The events feed: rules in `services`, HTTP in `controllers`, types in `schemas`."""
