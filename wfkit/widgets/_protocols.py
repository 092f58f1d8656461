"""Messages between the graph widget's Python side and its JavaScript (``static/graph.js``)."""

from __future__ import annotations

from typing import Literal, TypedDict


class SelectMessage(TypedDict):
    """Show the details of a node (click or keyboard)."""

    type: Literal["select"]
    id: str


class ExpandMessage(TypedDict):
    """Show a page of the tasks of a collapsed fan-out group."""

    type: Literal["expand"]
    id: str
    page: int


class CollapseMessage(TypedDict):
    type: Literal["collapse"]
    id: str


class OpenMessage(TypedDict):
    """Show the graph of a child workflow instance."""

    type: Literal["open"]
    instance_id: str


class BackMessage(TypedDict):
    """Go back to the parent's graph."""

    type: Literal["back"]


GraphMessage = SelectMessage | ExpandMessage | CollapseMessage | OpenMessage | BackMessage
