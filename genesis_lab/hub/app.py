"""The hub application: JupyterHub, with a shutdown that cannot hang on a task that will not end.

JupyterHub's ``shutdown_cancel_tasks`` cancels every task of its event loop after the clean-up and
then waits for all of them without a limit. A task that outlives its cancellation (a poll loop
whose cancel was lost in Python 3.11's ``asyncio.wait_for``, a ``finally`` awaiting a hung
command) then keeps the stopped hub's process alive, holding its ports and pid file, so the
next ``make up`` finds it still running. :class:`GenesisHub` waits ``shutdown_task_timeout`` seconds and
logs the stack of every task still running before it stops the loop. It also stops its periodic
callbacks first, as JupyterHub's ``stop()`` does and its signal handler does not: a service
health check during the services' clean-up raised ``AttributeError`` in the log.

``genesis-lab up`` runs it as ``python -m genesis_lab.hub.app -f jupyterhub_config.py``; it takes
every option ``jupyterhub`` takes.
"""

from __future__ import annotations

import asyncio
import io
import signal

from jupyterhub.app import JupyterHub
from traitlets import Float

__all__ = ["GenesisHub", "main"]


class GenesisHub(JupyterHub):
    """JupyterHub whose shutdown waits a bounded time for its cancelled tasks.

    >>> GenesisHub.shutdown_task_timeout.default_value
    10.0
    """

    shutdown_task_timeout = Float(
        10.0,
        help="Seconds the hub's shutdown waits for its cancelled tasks before it stops anyway.",
    ).tag(config=True)

    async def shutdown_cancel_tasks(self, sig: signal.Signals | None = None) -> None:
        if sig is None:
            self.log.critical("Initiating shutdown...")
        else:
            self.log.critical("Received signal %s, initiating shutdown...", sig.name)
        # no service health check or activity update while the services are being stopped
        for periodic in self._periodic_callbacks.values():
            periodic.stop()
        await self.cleanup()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=self.shutdown_task_timeout)
            for task in pending:
                stack = io.StringIO()
                task.print_stack(file=stack)
                self.log.error(
                    "Task still running %g s after it was cancelled; stopping without it:\n%s",
                    self.shutdown_task_timeout,
                    stack.getvalue(),
                )
        self._stop_event_loop()


main = GenesisHub.launch_instance

if __name__ == "__main__":
    main()
