"""The model gateway: the only package that imports litellm.

Import ``Gateway`` from ``tutor.gateway.gateway`` (or from here: the name is
resolved lazily so importing this package stays cheap).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tutor.gateway.types import ChatModel, Chunk, GatewayError, Message, ToolCall

if TYPE_CHECKING:
    from tutor.gateway.doctor import ModelCheck, check_model
    from tutor.gateway.gateway import Gateway

__all__ = [
    "ChatModel",
    "Chunk",
    "Gateway",
    "GatewayError",
    "Message",
    "ModelCheck",
    "ToolCall",
    "check_model",
]


def __getattr__(name: str) -> Any:
    if name == "Gateway":
        from tutor.gateway.gateway import Gateway

        return Gateway
    if name in ("ModelCheck", "check_model"):
        from tutor.gateway import doctor

        return getattr(doctor, name)
    raise AttributeError(f"module 'tutor.gateway' has no attribute {name!r}")
