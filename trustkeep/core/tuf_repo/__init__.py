"""Pure operations on TUF repository metadata (python-tuf's Metadata API): no I/O, no clock.

Modules: ``state``, ``delegation``, ``targetsops``, ``rootops``, ``online``, ``status``,
``expiry``, ``pubkeys``; import the one you use (each command loads only what it needs).
"""
