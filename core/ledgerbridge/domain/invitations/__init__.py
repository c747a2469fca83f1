"""Invitations: how people join a workspace, by a link they accept themselves."""
