"""oomtui: see, before it happens, what each OOM killer would kill and why."""

__version__ = "0.1.0"
