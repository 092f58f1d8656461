"""The walk-through a tutorial's README gives after its run step: numbered items, each
with a ``curl`` command and what to see then, in the app's logs (a ``text`` block after
a sentence about logs) or in the workflow's state (a ``txt`` block after "serialized
output" or "custom status"). Followed as a reader would: send the request, wait for the
logs to show (a few seconds at most), and send a status request again while the state
is not yet what the README shows."""

from __future__ import annotations

import json
import re
import shlex
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

_ITEM = re.compile(r"^\s*\d+\.\s", re.M)
_BLOCK = re.compile(r"```(\w*)\n(.*?)```", re.S)
_PROPERTY = {
    "serialized output": "dapr.workflow.output",
    "custom status": "dapr.workflow.custom_status",
}

#: How long a reader waits for logs or for a state to show before calling it missing.
PATIENCE = 10.0


@dataclass
class Item:
    curl: str
    logs: list[str] = field(default_factory=list)
    states: list[tuple[str, str]] = field(default_factory=list)  # (property, JSON text)


def read_tour(readme: Path) -> list[Item]:
    """The items after the README's last ``END_STEP`` that send a request."""
    text = readme.read_text().rsplit("END_STEP", 1)[-1]
    items: list[Item] = []
    last_get: str | None = None
    for part in _ITEM.split(text):
        blocks = list(_BLOCK.finditer(part))
        curls = [_dedent(b.group(2)) for b in blocks if b.group(2).lstrip().startswith("curl")]
        if curls and "POST" not in curls[0]:
            last_get = curls[0]
        # "again use the GET request": an item without a command repeats the last GET
        curl = curls[0] if curls else last_get
        if curl is None:
            continue
        item = Item(curl)
        # expectations the README itself says can differ from run to run are not checked
        if re.search(r"can vary|varies|random", part) and "order" not in part:
            blocks = []
        for block in blocks:
            before = part[: block.start()].rstrip().rsplit("\n\n", 1)[-1].lower()
            body = _dedent(block.group(2)).strip()
            prop = next((p for phrase, p in _PROPERTY.items() if phrase in before), None)
            if prop is not None and block.group(1) in ("txt", "text"):
                item.states.append((prop, body))
            elif "log" in before and block.group(1) in ("txt", "text"):
                item.logs += [line.strip() for line in body.splitlines() if line.strip()]
        if curls or item.logs or item.states:
            items.append(item)
    return items


def _dedent(text: str) -> str:
    lines = text.splitlines()
    cut = min((len(x) - len(x.lstrip()) for x in lines if x.strip()), default=0)
    return "\n".join(x[cut:] for x in lines)


def _request(curl: str, instance_id: str | None) -> tuple[int, dict[str, str], str]:
    if "<INSTANCEID>" in curl:
        assert instance_id, "the walk-through asks for an instance id no request returned"
        curl = curl.replace("<INSTANCEID>", instance_id)
    args = shlex.split(curl.replace("\\\n", " "))[1:]
    method, url, data, headers = "GET", "", None, {}
    while args:
        arg = args.pop(0)
        if arg in ("--request", "-X"):
            method = args.pop(0)
        elif arg == "--url":
            url = args.pop(0)
        elif arg in ("--header", "-H"):
            key, _, value = args.pop(0).partition(":")
            headers[key.strip()] = value.strip()
        elif arg in ("--data", "-d"):
            data = args.pop(0).encode()
        elif not arg.startswith("-"):
            url = arg
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read().decode()


def _instance_id(headers: dict[str, str], body: str) -> str | None:
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, dict):
        for key in ("instance_id", "instanceID", "instanceId"):
            if data.get(key):
                return str(data[key])
    location = headers.get("Location") or headers.get("location")
    return location.rstrip("/").rsplit("/", 1)[-1] if location else None


def _property(body: str, name: str) -> str | None:
    try:
        value = json.loads(body).get("properties", {}).get(name)
    except (ValueError, AttributeError):
        return None
    return None if value is None else json.dumps(value)


def walk(items: list[Item], output: Callable[[], list[str]]) -> list[str]:
    """Follow the items; what differs from the README, one sentence each."""
    problems: list[str] = []
    instance_id: str | None = None
    for number, item in enumerate(items, 1):
        deadline = time.monotonic() + PATIENCE
        status, headers, body = _request(item.curl, instance_id)
        instance_id = _instance_id(headers, body) or instance_id
        if status >= 400:
            problems.append(
                f"item {number}: {item.curl.splitlines()[0]} answered {status}: {body[:200]}"
            )
            continue
        while (lacking := _lacking(item.logs, output())) and time.monotonic() < deadline:
            time.sleep(0.2)
        if lacking:
            problems.append(f"item {number}: the app's logs lack {lacking}")
        for prop, expected in item.states:
            while not _same(_property(body, prop), expected) and time.monotonic() < deadline:
                time.sleep(0.5)
                status, headers, body = _request(item.curl, instance_id)
            if not _same(_property(body, prop), expected):
                problems.append(
                    f"item {number}: {prop} is {_property(body, prop)}, the README shows {expected}"
                )
    return problems


def _same(actual: str | None, expected: str) -> bool:
    """Equal as JSON values: the README's JSON may be spaced otherwise than Python's."""
    if actual is None:
        return False

    def value(text: str) -> object:
        try:
            inner = json.loads(text)
            return json.loads(inner) if isinstance(inner, str) else inner
        except ValueError:
            return text

    return actual == expected or value(actual) == value(expected)


def _lacking(expected: list[str], output: list[str]) -> list[str]:
    """Expected log lines not in the output (any order, each as often as listed)."""
    have = Counter(line.strip() for line in output)
    lacking = []
    for line, count in Counter(expected).items():
        found = sum(n for text, n in have.items() if line in text)
        lacking += [line] * max(0, count - found)
    return lacking
