"""The outside channels notifications go through: e-mail over SMTP (smtplib, with a timeout and
optional STARTTLS) and SMS through an HTTP gateway (POST JSON ``{"to", "text"}`` with a bearer
token). Both raise on any failure; the delivery task records it and the queue retries."""
from __future__ import annotations

import json
import smtplib
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid


@dataclass(frozen=True)
class SmtpOptions:
    host: str
    port: int = 25
    user: str | None = None
    password: str | None = None
    sender: str = "motcua@localhost"
    starttls: bool = False
    timeout: float = 10.0


class SmtpMailer:
    """Send one plain-text e-mail per call over SMTP."""

    def __init__(self, options: SmtpOptions):
        self.options = options

    def send(self, to: str, subject: str, body: str) -> None:
        o = self.options
        msg = EmailMessage()
        msg["From"] = o.sender
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = formatdate(localtime=True)
        msg["Message-ID"] = make_msgid(domain=o.sender.rpartition("@")[2] or None)
        msg.set_content(body)  # UTF-8, quoted-printable or base64 as needed
        with smtplib.SMTP(o.host, o.port, timeout=o.timeout) as smtp:
            if o.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if o.user:
                smtp.login(o.user, o.password or "")
            smtp.send_message(msg)


class HttpSmsGateway:
    """Send one SMS per call: POST <url> with ``{"to", "text"}``; anything but a 2xx raises."""

    def __init__(self, url: str, *, token: str | None = None, timeout: float = 10.0):
        if not url.lower().startswith(("http://", "https://")):
            raise ValueError("the SMS gateway URL must be http(s)")
        self.url = url
        self.token = token
        self.timeout = timeout

    def send(self, to: str, text: str) -> None:
        body = json.dumps({"to": to, "text": text}, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json", "Accept": "application/json"})
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - configured URL
                response.read(100_000)
        except urllib.error.HTTPError as exc:
            exc.close()  # the error holds the gateway's open answer: close it, then let the caller retry
            raise
