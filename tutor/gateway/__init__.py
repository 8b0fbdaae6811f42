"""The model gateway: the only package that imports litellm."""
