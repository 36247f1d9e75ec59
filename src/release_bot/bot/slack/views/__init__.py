"""Block Kit builders of the Slack app, in one place to import from.

Every builder is a pure function of a `ReleaseSnapshot` (or plain data) and `now`: no IO, no
clock, no database. They build `slack_sdk.models` objects and let slack_sdk check Slack's limits
before returning; callers send `[b.to_dict() for b in blocks]` or `view.to_dict()`.

- status message: `status_blocks`, `status_text` (status.py)
- replies: `action_reply_text`, `refusal_blocks`, `approval_needed_text`, `ending_text`,
  `reminder_text`, `escalation_text` (status.py)
- the guardrail: each check of the live phases in the status message, and `guardrail_text`,
  the announcement of a pause or abort it made (checks.py)
- modals: `confirm_modal`, `reason_from_view`, `start_modal`, `start_values_from_view`,
  `form_fields`, `notice_modal` (modals.py)
- `/release`: `help_blocks`, `list_blocks`, `history_blocks`, and Show status's `status_modal`
  (commands.py)
- App Home: `home_view` (home.py)
"""

from release_bot.bot.slack.views.checks import guardrail_text
from release_bot.bot.slack.views.commands import (
    help_blocks,
    history_blocks,
    list_blocks,
    status_modal,
)
from release_bot.bot.slack.views.home import home_view
from release_bot.bot.slack.views.modals import (
    confirm_modal,
    form_fields,
    notice_modal,
    reason_from_view,
    start_modal,
    start_values_from_view,
)
from release_bot.bot.slack.views.snapshot import ReleaseSnapshot
from release_bot.bot.slack.views.status import (
    ApprovalAsk,
    action_reply_text,
    approval_needed_text,
    ending_text,
    escalation_text,
    refusal_blocks,
    reminder_text,
    status_blocks,
    status_text,
)

__all__ = [
    "ApprovalAsk",
    "ReleaseSnapshot",
    "action_reply_text",
    "approval_needed_text",
    "confirm_modal",
    "ending_text",
    "escalation_text",
    "form_fields",
    "guardrail_text",
    "help_blocks",
    "history_blocks",
    "home_view",
    "list_blocks",
    "notice_modal",
    "reason_from_view",
    "refusal_blocks",
    "reminder_text",
    "start_modal",
    "start_values_from_view",
    "status_blocks",
    "status_modal",
    "status_text",
]
