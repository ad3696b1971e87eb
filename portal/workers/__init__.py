"""Workers that recover: task heartbeats written by every worker process, and the sweep that turns the tasks of
dead workers into failures (``portal.workers.recovery``)."""
