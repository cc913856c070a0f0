"""JupyterHub configuration of genesis-lab: values only; classes and logic live in genesis_lab.hub.

Start it with `genesis-lab hub` (or `make up`); edit hub_config/site.yaml, not this file.
"""

from genesis_lab.hub.config import hub_plan
from genesis_lab.hub.passwords import account_audit_path
from genesis_lab.training.hooks import pre_spawn_hook

plan = hub_plan()
c = get_config()  # noqa: F821 - provided by JupyterHub when it loads this file

# where the hub listens and keeps its state
c.JupyterHub.bind_url = plan.bind_url
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.db_url = plan.db_url
c.JupyterHub.cookie_secret_file = plan.cookie_secret_file
c.JupyterHub.proxy_class = plan.proxy_class  # hub.proxy: traefik (auto, when installed) or chp
c.GenesisTraefikProxy.traefik_command = plan.traefik_command
c.GenesisTraefikProxy.static_config_file = plan.traefik_static_config_file
c.GenesisTraefikProxy.dynamic_config_file = plan.traefik_dynamic_config_file
c.GenesisTraefikProxy.pid_file = plan.proxy_pid_file
c.ConfigurableHTTPProxy.command = plan.proxy_command
c.ConfigurableHTTPProxy.auth_token = plan.proxy_auth_token
c.ConfigurableHTTPProxy.pid_file = plan.proxy_pid_file
c.JupyterHub.cleanup_servers = False  # sessions survive a hub restart (`genesis-lab up`: stopped)
c.JupyterHub.pid_file = plan.pid_file  # genesis-lab down
c.JupyterHub.template_paths = plan.template_paths
c.JupyterHub.template_vars = plan.template_vars  # programme name on every hub page

# vetted users: sign-up, admin approval, clearances as groups
c.JupyterHub.authenticator_class = plan.authenticator_class
c.Authenticator.allow_all = True  # every *approved* user; approval is the gate
c.Authenticator.admin_users = plan.admin_users
c.GenesisAuthenticator.enable_signup = True
c.GenesisAuthenticator.open_signup = False
c.GenesisAuthenticator.minimum_password_length = plan.site.minimum_password_length
c.GenesisAuthenticator.check_common_password = True
c.GenesisAuthenticator.clearance_groups = plan.clearance_groups
c.GenesisAuthenticator.vetted_group = plan.vetted_group
c.GenesisAuthenticator.first_admin_hash_file = plan.first_admin_hash_file
c.GenesisAuthenticator.account_audit_log = str(account_audit_path(plan))  # one-time passwords
c.GenesisAuthenticator.one_time_password_hours = plan.site.one_time_password_hours
c.SystemUseNotice.login_banner = plan.site.login_banner  # AC-8 notice, acknowledged (any login)
# a centre's login instead (hub.authenticator: oauth; oauthenticator, in the hub extra)
c.OAuthenticator.client_id = plan.site.oauth.client_id
c.OAuthenticator.client_secret = plan.oauth_client_secret
c.OAuthenticator.oauth_callback_url = plan.site.oauth.callback_url
c.CILogonOAuthenticator.allowed_idps = plan.site.oauth.allowed_idps
c.GenericOAuthenticator.update(plan.site.oauth.generic_config())
c.OAuthenticator.allow_all = False  # a provider's sign-in is not vetting: only users the
c.OAuthenticator.allow_existing_users = True  # admin added (or approved before) get in
c.JupyterHub.load_groups = plan.load_groups
c.JupyterHub.load_roles = plan.load_roles

# sessions bound to allocations
c.JupyterHub.spawner_class = plan.spawner_class
c.JupyterHub.concurrent_spawn_limit = plan.site.concurrent_spawn_limit
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = plan.site.start_timeout
c.Spawner.http_timeout = plan.site.http_timeout
c.Spawner.poll_interval = plan.site.poll_interval
c.Spawner.args = plan.spawner_args
c.Spawner.site_file = plan.site_file
c.Spawner.default_profile = plan.site.default_profile
c.Spawner.ip = "127.0.0.1"
c.LocalAllocationSpawner.home_dir_template = plan.home_dir_template  # one Unix identity
c.LocalAllocationSpawner.accounts_home_root = plan.accounts_home_root  # hub as root: an account
c.LocalAllocationSpawner.account_prefix = plan.account_prefix  # per user, jupyter-<name>
c.SlurmAllocationSpawner.exec_prefix = plan.site.slurm.exec_prefix
c.SlurmAllocationSpawner.startup_poll_interval = plan.site.slurm.startup_poll_interval
c.SlurmAllocationSpawner.req_prologue = plan.site.slurm.prologue
c.SlurmAllocationSpawner.orphan_file = plan.orphan_file
c.SlurmAllocationSpawner.cancel_attempts = plan.site.slurm.cancel_attempts
c.SlurmAllocationSpawner.reap_interval = plan.site.slurm.reap_interval
c.SlurmAllocationSpawner.command_timeout = plan.site.slurm.command_timeout

c.Spawner.environment = plan.spawner_environment
c.Spawner.pre_spawn_hook = pre_spawn_hook  # course caps, then new assignments into the home

# services: the genesis service (catalog, data access by clearance, audit), the pipeline
# scheduler, and jupyterhub-idle-culler (hub.idle_timeout in the site file)
c.JupyterHub.services = plan.services
c.JupyterHub.custom_scopes = plan.custom_scopes
