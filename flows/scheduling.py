"""Which flow runs a schedule created, and for what time (prefect.runtime)."""

import datetime as dt

from prefect.context import FlowRunContext
from prefect.runtime import flow_run


def schedule_slot() -> dt.datetime | None:
    """The time a schedule created this flow run for; None for a manual or direct run.

    The slot, not the wall clock: a late or retried run of the 02:00 slot still gets 02:00.
    """
    ctx = FlowRunContext.get()
    if ctx is None or not ctx.flow_run.auto_scheduled:
        return None
    return flow_run.scheduled_start_time
