"""The audit trail's API: rules in `services`, HTTP in `controllers`, types in `schemas`."""
