"""The client's IP address, as far as the proxies in front can be trusted to say.

`X-Forwarded-For` is only believed when DJANGO_TRUSTED_PROXY_COUNT says how many
proxies in front of the app append to it: each appends the address it received the
request from, so with N trusted proxies the client is the N-th address from the
right. Anything left of that was written by the client and may be forged. With no
trusted proxy (the default) the connection's own address is the client.

Used by the API throttles and by django-axes (`AXES_CLIENT_IP_CALLABLE`), so the
per-IP limits and the admin lockout count the same address.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if not forwarded:
        return remote
    # Fewer addresses than trusted proxies: the header came from an untrusted hop or a
    # misconfiguration; the leftmost is the best guess (as Django REST framework does).
    candidate = forwarded[-min(proxies, len(forwarded))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:  # garbage in the header: count the connection instead
        return remote
