"""The Textual app: renders snapshots and decisions, turns keys into intents."""
