"""Who may drive the HTTP API: the checks every request passes before it is routed.

The server listens on loopback, but a web page open in a browser on the same machine can
still send it requests, so three rules keep pages out (each refusal is a JSON error):

* **Host** must name this server: the address it is bound to, ``localhost``,
  ``127.0.0.1`` or ``[::1]``, with its port (or a name given in ``allowed_hosts``).
  A page on a domain that was re-pointed at 127.0.0.1 (DNS rebinding) sends its own name
  and is refused: 403 ``ERR_HOST_NOT_ALLOWED``. A request without ``Host`` (HTTP/1.0) is
  not a browser's and passes.
* A browser request must come from this server's own origin. Browsers mark their
  requests with ``Origin`` and ``Sec-Fetch-Site``; an ``Origin`` that is not
  ``http://<Host>``, or a ``Sec-Fetch-Site`` other than ``same-origin`` or ``none`` (an
  address typed in the address bar) is refused: 403 ``ERR_CROSS_ORIGIN``. A CORS
  preflight (``OPTIONS`` with an ``Origin``) is refused the same way, with no
  ``Access-Control-Allow-*`` header, so the browser never sends the request itself:
  the refusal is about who asks, not about the method, hence 403 rather than 405.
* A browser request that writes a body must send it as ``Content-Type:
  application/json`` (415 ``ERR_UNSUPPORTED_MEDIA_TYPE`` otherwise), which a page
  cannot do cross-site without a preflight. Requests without ``Origin`` and
  ``Sec-Fetch-*`` headers are not a browser's (curl, the ``wfkit`` command, SDKs) and
  may send any content type: Dapr's own examples use ``curl -d``, which sends
  ``application/x-www-form-urlencoded``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from email.message import Message
from urllib.parse import urlsplit

#: Names that always reach a loopback server.
_LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
_WILDCARDS = ("0.0.0.0", "::")


class Refused(Exception):
    """A request refused before routing: status, error code, message."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _split_host(value: str) -> tuple[str, int | None] | None:
    """(name, port) of a ``Host`` value such as ``localhost:3500`` or ``[::1]:3500``."""
    try:
        split = urlsplit("//" + value.strip())
        port = split.port
    except ValueError:
        return None
    if not split.hostname or split.username is not None or split.path or split.query:
        return None
    return split.hostname.lower(), port


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class Access:
    """The rules above for a server bound to ``host``:``port``.

    ``allowed_hosts`` adds names (``"myhost.lan"``, or ``"myhost.lan:8080"`` for another
    port, as behind a proxy) that ``Host`` may carry; ``"*"`` accepts any ``Host``. A
    server bound to every interface (``0.0.0.0`` or ``::``) also accepts any IP address
    as ``Host``: an address cannot be re-pointed, only names can.
    """

    def __init__(self, host: str, port: int, allowed_hosts: Iterable[str] = ()):
        self.port = port
        self.any_host = False
        self.names = {host.strip("[]").lower(), *_LOOPBACK_NAMES}
        self.named_ports: set[tuple[str, int]] = set()
        for entry in allowed_hosts:
            if not isinstance(entry, str) or not entry.strip():
                raise ValueError(f"allowed_hosts entries must be host names, not {entry!r}")
            if entry.strip() == "*":
                self.any_host = True
                continue
            parsed = _split_host(entry)
            if parsed is None:
                raise ValueError(f"allowed_hosts entry {entry!r} is not a host name (or name:port)")
            name, entry_port = parsed
            if entry_port is None:
                self.names.add(name)
            else:
                self.named_ports.add((name, entry_port))
        self.any_ip = host.strip("[]") in _WILDCARDS

    def host_allowed(self, value: str) -> bool:
        if self.any_host:
            return True
        parsed = _split_host(value)
        if parsed is None:
            return False
        name, port = parsed
        if (name, port) in self.named_ports:
            return True
        if port != self.port and not (port is None and self.port == 80):
            return False
        return name in self.names or (self.any_ip and _is_ip(name))

    def check(self, method: str, headers: Message) -> None:
        """Raise :class:`Refused` unless the request may go on."""
        hosts = headers.get_all("Host") or []
        if len(hosts) > 1:
            raise Refused(400, "ERR_MALFORMED_REQUEST", "more than one Host header")
        host = hosts[0] if hosts else None
        if host is not None and not self.host_allowed(host):
            raise Refused(
                403,
                "ERR_HOST_NOT_ALLOWED",
                f"this server does not answer for Host {host[:100]!r}: use "
                f"http://127.0.0.1:{self.port} or http://localhost:{self.port}, or start "
                "the server with allowed_hosts=[...] (wfkit serve --allowed-host) to add "
                "a name",
            )
        origin = headers.get("Origin")
        site = headers.get("Sec-Fetch-Site")
        if origin is not None and (host is None or origin.lower() != f"http://{host}".lower()):
            raise Refused(
                403,
                "ERR_CROSS_ORIGIN",
                f"requests from web pages of another origin ({origin[:100]!r}) are refused: "
                "the workflow API is not for other sites to drive",
            )
        if site is not None and site.strip().lower() not in ("same-origin", "none"):
            raise Refused(
                403,
                "ERR_CROSS_ORIGIN",
                f"cross-site requests (Sec-Fetch-Site: {site[:40]}) are refused: the "
                "workflow API is not for other sites to drive",
            )
        browser = origin is not None or any(k.lower().startswith("sec-fetch-") for k in headers)
        length = (headers.get("Content-Length") or "").strip()
        has_body = length not in ("", "0") or headers.get("Transfer-Encoding") is not None
        if browser and has_body and method not in ("GET", "HEAD"):
            media = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if media != "application/json":
                raise Refused(
                    415,
                    "ERR_UNSUPPORTED_MEDIA_TYPE",
                    "a request from a browser must send its body as "
                    f"Content-Type: application/json, not {media or 'none'!r}",
                )
