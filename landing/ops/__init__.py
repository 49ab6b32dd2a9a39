"""Operators' tools: health and metrics, the deploy commands, the task dashboard.

health (/health, /ready: the load balancer's probes, which nginx passes) and metrics
(/metrics, which nginx never passes) are routes on the API's own port; cli holds the
`flask --app landing` commands deploys run; dashboard is the task dashboard, a WSGI app of
its own behind basic auth.
"""
