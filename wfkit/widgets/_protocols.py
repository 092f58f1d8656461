"""Messages from the widgets' JavaScript to their Python side: the graph's (``js/src/graph.js``)
and the panels' controls (``js/src/controls.js``)."""

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


class ClickMessage(TypedDict):
    """A button of a panel was clicked."""

    type: Literal["click"]
    name: str


class InputMessage(TypedDict):
    """The text of a panel's input (text, combobox or textarea) changed."""

    type: Literal["input"]
    name: str
    value: str


class ChooseMessage(TypedDict):
    """An option of a panel's select was chosen (by its index)."""

    type: Literal["choose"]
    name: str
    index: int


class CheckMessage(TypedDict):
    """A panel's checkbox was ticked or cleared."""

    type: Literal["check"]
    name: str
    value: bool


ControlMessage = ClickMessage | InputMessage | ChooseMessage | CheckMessage
