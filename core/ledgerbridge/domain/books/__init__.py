"""The books connection: rules in `services`, HTTP in `controllers`, types in `schemas`."""
