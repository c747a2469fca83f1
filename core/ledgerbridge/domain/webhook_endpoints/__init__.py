"""Webhook endpoints: rules in `services`, HTTP in `controllers`, types in `schemas`."""
