"""Signals the enforcement engine sends, so apps above it can react without the engine importing them.

Receivers run in the sender's process, after the data they describe has committed.
A receiver must not raise: the engine logs and ignores receiver errors (send_robust).

- `enforcement_run_started(task_name, started_at)`: a periodic task or drain began.
- `enforcement_run_finished(task_name, started_at, finished_at, summary)`: it finished;
  `summary` is the dict the task returns (`examined`, `activated`, `paused`,
  `reason_changed`). A sharded sweep sends it once, when its last shard commits.
- `brands_enforced(brand_ids, now, source)`: the rule was applied to every campaign of
  these brands at instant `now` (`brand_ids` is None when it was all brands, e.g. the
  10-minute sweep). Budget alerts look for threshold crossings here.
"""

from django.dispatch import Signal

enforcement_run_started = Signal()
enforcement_run_finished = Signal()
brands_enforced = Signal()
