"""The rediscovery benchmark: hide part of the DFT catalogue, run the discovery loop on what remains, and count
how much of the hidden ground truth it finds again (``manage.py discovery_benchmark``, the dashboard's job)."""
