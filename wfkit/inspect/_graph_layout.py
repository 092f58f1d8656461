"""Coordinates for a graph model: steps top to bottom, a group's members side by side."""

from __future__ import annotations

from typing import Any

NODE_W, NODE_H = 176, 48
GROUP_W, GROUP_H = 300, 78
GAP_X, GAP_Y = 14, 34
PAD, HEAD, PAGER = 10, 24, 26
COLUMNS = 8
MARGIN = 16
#: The narrowest an expanded group is drawn.
MIN_GROUP_W = 220


class _Layout:
    def __init__(self, model: dict[str, Any], columns: int):
        self.model = model
        self.columns = columns
        self.nodes = {n["id"]: n for n in model["nodes"]}
        self.groups = {g["id"]: g for g in model["groups"]}
        self.boxes: dict[str, dict[str, Any]] = {**self.nodes, **self.groups}

    def measure(self, item_id: str) -> tuple[int, int]:
        """Set the box's ``w`` and ``h`` (a group's from its members'); return them."""
        if item_id in self.nodes:
            box = self.nodes[item_id]
            box["w"], box["h"] = NODE_W, NODE_H
            return NODE_W, NODE_H
        group = self.groups[item_id]
        if group["collapsed"]:
            group["w"], group["h"] = GROUP_W, GROUP_H
            return GROUP_W, GROUP_H
        columns = self.columns
        children = group["children"]
        rows: list[list[str]] = [
            children[i : i + columns] for i in range(0, len(children), columns)
        ]
        sizes = {c: self.measure(c) for c in children}
        width = max(
            [sum(sizes[c][0] for c in row) + GAP_X * (len(row) - 1) for row in rows] or [NODE_W]
        )
        heights = [max(sizes[c][1] for c in row) for row in rows]
        height = sum(heights) + GAP_Y * max(0, len(heights) - 1) if rows else 0
        extra = PAGER if group["pages"] > 1 else 0
        group["rows"] = rows
        group["row_heights"] = heights
        group["w"] = max(width + 2 * PAD, MIN_GROUP_W)
        group["h"] = HEAD + GAP_Y // 2 + height + GAP_Y // 2 + extra + PAD
        return group["w"], group["h"]

    def place(self, item_id: str, x: float, y: float) -> None:
        """Set the box's ``x`` and ``y`` (and its members', row by row, centred)."""
        boxes = self.boxes
        box = boxes[item_id]
        box["x"], box["y"] = x, y
        if item_id not in self.groups or box["collapsed"]:
            return
        top = y + HEAD + GAP_Y // 2
        for row, height in zip(box["rows"], box["row_heights"], strict=True):
            row_w = sum(boxes[c]["w"] for c in row) + GAP_X * (len(row) - 1)
            cx = x + (box["w"] - row_w) / 2
            for c in row:
                self.place(c, cx, top + (height - boxes[c]["h"]) / 2)
                cx += boxes[c]["w"] + GAP_X
            top += height + GAP_Y

    def route(self, edge: dict[str, Any]) -> None:
        """Give an edge worth drawing its ``points`` (the others are implied by boxes)."""
        a, b = self.boxes.get(edge["from"]), self.boxes.get(edge["to"])
        if a is None or b is None or "x" not in a or "x" not in b:
            return
        if edge["kind"] == "next":
            edge["points"] = [
                [a["x"] + a["w"] / 2, a["y"] + a["h"]],
                [b["x"] + b["w"] / 2, b["y"]],
            ]
        elif edge["kind"] == "fork" and len(a.get("rows", ())) == 1:
            edge["points"] = [
                [b["x"] + b["w"] / 2, a["y"] + HEAD],
                [b["x"] + b["w"] / 2, b["y"]],
            ]
        elif edge["kind"] == "join" and len(b.get("rows", ())) == 1:
            bottom = b["y"] + b["h"] - PAD - (PAGER if b["pages"] > 1 else 0)
            edge["points"] = [[a["x"] + a["w"] / 2, a["y"] + a["h"]], [a["x"] + a["w"] / 2, bottom]]

    def run(self) -> dict[str, Any]:
        model = self.model
        sizes = [self.measure(s) for s in model["steps"]]
        width = max([w for w, _ in sizes] or [NODE_W]) + 2 * MARGIN
        y = MARGIN
        for step, (w, h) in zip(model["steps"], sizes, strict=True):
            self.place(step, (width - w) / 2, y)
            y += h + GAP_Y
        for edge in model["edges"]:
            self.route(edge)
        for group in self.groups.values():
            group.pop("rows", None)
            group.pop("row_heights", None)
        model["width"] = width
        model["height"] = max(y - GAP_Y + MARGIN, 2 * MARGIN)
        return model


def layout(model: dict[str, Any], *, columns: int = COLUMNS) -> dict[str, Any]:
    """Add ``x``, ``y``, ``w``, ``h`` to nodes and groups, ``points`` to the edges worth
    drawing, and the drawing's ``width`` and ``height``: steps top to bottom, the members
    of a group side by side (wrapped every ``columns``)."""
    return _Layout(model, columns).run()
