"""The genesis-lab JupyterHub: vetted users, sessions bound to HPC allocations, idle culling.

``hub_config/jupyterhub_config.py`` assigns values from :mod:`genesis_lab.hub.config`; the
authenticator and spawners are registered as ``jupyterhub.authenticators``/``jupyterhub.spawners``.
"""
