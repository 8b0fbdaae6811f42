"""The headless Socratic engine. It never imports the TUI or litellm."""
