"""Who is calling: people with sessions, host apps with API keys, and what each may do.

One module per idea: `passwords` and `throttling` (signing in), `sessions`, `api_keys`,
`memberships` (users, workspaces, roles), `callers` (the resolved `Caller`), `middleware`,
`guards` (route-level first line), `permissions` (the checks services make) and `controllers`
(the JSON sign-in endpoints).
"""
