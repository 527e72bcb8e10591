"""Keep the app alive: an exception in a key handler becomes a notification.

Workers report their own errors (MainScreen.on_worker_state_changed); this
covers the handlers that run on the UI thread, where an uncaught exception
would otherwise end the app and leave a traceback on the terminal.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from textual.actions import SkipAction

from oomtui.text import printable

F = TypeVar("F", bound=Callable[..., Any])


def guarded(method: F) -> F:
    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except SkipAction:  # the key was not for this action: Textual passes it on
            raise
        except Exception as e:
            self.notify(printable(f"{type(e).__name__}: {e}", limit=300), title="Error (oomtui keeps running)",
                        severity="error", markup=False)
            return None

    return wrapper  # type: ignore[return-value]
