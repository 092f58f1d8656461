"""JSON codec for workflow payloads (never pickle).

The wire format is Dapr's: dataclasses, namedtuples and SimpleNamespaces become
JSON objects marked with ``__durabletask_autoobject__`` and come back as
SimpleNamespace (attribute access works, as on Dapr); objects with the model protocol
(``model_dump``/``model_validate``, e.g. pydantic) become plain objects. Histories
written by either engine can therefore be read by the other.

Where a workflow or activity annotates its input parameter with a model class, the
decoded value is coerced to that class, as Dapr does. A dataclass annotation changes
nothing: the input arrives as a SimpleNamespace, as on Dapr.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import typing
from json.encoder import encode_basestring_ascii
from types import SimpleNamespace, UnionType
from typing import Any

from wfkit.core._errors import PayloadTooLargeError, SerializationError, UnstorableTextError

AUTO_SERIALIZED = "__durabletask_autoobject__"

#: Default ceiling for one serialized payload (input, output, event data).
DEFAULT_MAX_PAYLOAD_BYTES = 4 * 1024 * 1024


def _is_model_class(cls: Any) -> bool:
    return (
        inspect.isclass(cls)
        and callable(getattr(cls, "model_dump", None))
        and callable(getattr(cls, "model_validate", None))
    )


def _dump_model(obj: Any) -> Any:
    try:
        return obj.model_dump(mode="json")
    except TypeError:
        return obj.model_dump()


class _Encoder(json.JSONEncoder):
    def encode(self, o: Any) -> str:
        if isinstance(o, tuple) and hasattr(o, "_asdict"):
            o = {**o._asdict(), AUTO_SERIALIZED: True}
        return super().encode(o)

    def default(self, o: Any) -> Any:
        if _is_model_class(type(o)):
            return _dump_model(o)
        if dataclasses.is_dataclass(o) and not isinstance(o, type):
            return {**dataclasses.asdict(o), AUTO_SERIALIZED: True}
        if isinstance(o, SimpleNamespace):
            return {**vars(o), AUTO_SERIALIZED: True}
        return super().default(o)


def _object_hook(d: dict[str, Any]) -> Any:
    if d.pop(AUTO_SERIALIZED, False):
        return SimpleNamespace(**d)
    return d


# Built once: constructing an encoder or decoder per call costs more than small payloads.
_ENCODER = _Encoder(allow_nan=False)  # NaN and Infinity are not JSON
_DECODER = json.JSONDecoder(object_hook=_object_hook)
_SCAN = _DECODER.scan_once  # type: ignore[attr-defined]


def encode(value: Any, *, what: str = "value", limit: int | None = None) -> str | None:
    """Encode ``value`` to JSON text; ``None`` stays ``None`` (no payload).

    Falsy values such as ``0``, ``""`` and ``False`` are encoded like any other.
    """
    if value is None:
        return None
    kind = type(value)
    try:
        if kind is str:  # fast paths for the commonest payloads
            text = encode_basestring_ascii(value)
        elif kind is int:
            text = int.__repr__(value)
        else:
            text = _ENCODER.encode(value)
    except RecursionError:
        raise SerializationError(
            f"{what} is nested too deeply to encode as JSON; flatten it, or pass a reference "
            "(a key or a path) to the data instead"
        ) from None
    except (TypeError, ValueError) as exc:
        raise SerializationError(
            f"{what} is not JSON-serializable ({exc}). Use JSON types (dict, list, str, "
            "int, float, bool, None; finite numbers only: NaN and Infinity are not JSON), "
            "dataclasses, namedtuples or objects with model_dump()/model_validate(); "
            "convert datetimes to ISO strings."
        ) from None
    check_size(text, what=what, limit=limit)
    return text


def check_text(text: str, *, what: str) -> str:
    """``text`` if it can be stored (UTF-8); else an UnstorableTextError."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UnstorableTextError(
            f"{what} {text!r} cannot be stored: {exc.reason} at position {exc.start} (a lone "
            "surrogate such as '\\ud800' is not text). Pass valid Unicode text."
        ) from None
    return text


def storable(text: str) -> str:
    """``text`` with what cannot be stored (lone surrogates) escaped: for messages that
    come from user code, such as an exception's."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def check_size(text: str | None, *, what: str, limit: int | None) -> None:
    if text is None or limit is None:
        return
    size = len(text.encode("utf-8")) if len(text) * 4 > limit else len(text)
    if size > limit:
        raise PayloadTooLargeError(
            f"{what} is {size:,} bytes once serialized, over the runtime's limit of "
            f"{limit:,} bytes. Pass a reference (a key or a path) instead of the data, "
            "or raise the limit with WorkflowRuntime(max_payload_bytes=...)."
        )


def decode(text: str | None) -> Any:
    """Decode JSON text written by :func:`encode` (or by Dapr); ``None``/"" is ``None``."""
    if text is None or text == "":
        return None
    # the scanner straight away: decode() adds two regex passes, a third of a small
    # payload's cost; anything it does not take whole goes the long way (and its errors)
    try:
        value, end = _SCAN(text, 0)
    except StopIteration:
        return _DECODER.decode(text)
    return value if end == len(text) else _DECODER.decode(text)


def _unwrap_optional(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is UnionType:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def resolve_input(fn: Any) -> tuple[bool, Any]:
    """Return (takes an input parameter, class to coerce the input to or None)."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return False, None
    if len(params) < 2:
        return False, None
    annotation = params[1].annotation
    if annotation is inspect.Parameter.empty:
        return True, None
    if isinstance(annotation, str):
        try:
            annotation = typing.get_type_hints(fn).get(params[1].name, annotation)
        except Exception:
            return True, None
    annotation = _unwrap_optional(annotation)
    return True, (annotation if _is_model_class(annotation) else None)


def coerce(value: Any, cls: Any) -> Any:
    """Coerce a decoded payload to the model class ``cls``, if it is not one already."""
    if value is None or cls is None or isinstance(value, cls):
        return value
    if isinstance(value, SimpleNamespace):
        value = vars(value)
    if not isinstance(value, dict):
        raise SerializationError(
            f"cannot turn a {type(value).__name__} into {cls.__name__}: expected a JSON "
            f"object with the fields of {cls.__name__}"
        )
    return cls.model_validate(value)
