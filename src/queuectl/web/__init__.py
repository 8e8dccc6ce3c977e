"""The web dashboard (optional extra ``queuectl[web]``): pages, JSON API and /metrics.

Nothing here is imported by the library or by other commands: ``queuectl dashboard``
imports ``queuectl.web.server`` when it runs.
"""
