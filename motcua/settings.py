"""The settings: every ``MOTCUA_*`` variable, parsed once into a frozen, typed ``Settings``.

The defaults live here and nowhere else: a plain default is the field's default; a derived default
(the database under the data dir, the secret key and the PKI passphrase generated once into the
data dir, the font cache under the data dir, Secure cookies when the public address is https) is
filled in by ``Settings.from_environment``. A bad value stops with ``MOTCUA_X: message``
(``SettingsError``), never a traceback from deep inside the application.
"""
from __future__ import annotations

import dataclasses
import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.rules.identity import DEFAULT_PATTERN
from engine.rules.uploads import DEFAULT_MAX_INFLATED_MB, DEFAULT_MAX_PAGES
from motcua.datadir import PRIVATE_FILE, owner_only, private_dir

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_PROCEDURES = PROJECT_ROOT / "procedures"
PREFIX = "MOTCUA_"
SECRET_KEY_FILE = "secret_key"
PKI_PASSPHRASE_FILE = "pki-passphrase"
AUTO = "auto"
BLOB_STORES = ("file", "s3")
BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


class SettingsError(ValueError):
    """A setting with a value that cannot be used; the message names the variable."""


def truthy(value: object) -> bool:
    """The one rule for a yes/no setting: anything but 0, false, no, off and the empty string is yes."""
    return str(value).strip().lower() not in ("0", "false", "no", "off", "")


# ------------------------------------------------------------------------------------------ conversions
# Each takes the raw value (a string from the environment, or any value from the overrides) and
# returns the typed value, or raises ValueError with the message to show after the variable's name.

def _text(value: object) -> str:
    return str(value)


def _optional_text(value: object) -> str | None:
    return str(value).strip() or None


def _path(value: object) -> Path:
    return Path(str(value))


def _folders(value: object) -> tuple[Path, ...]:
    parts = value if isinstance(value, (list, tuple)) else str(value).split(os.pathsep)
    folders = tuple(Path(str(p)) for p in parts if str(p))
    if not folders:
        raise ValueError("no procedure folder given")
    return folders


def _positive_number(value: object) -> float:
    try:
        number = float(str(value).strip())
    except ValueError:
        raise ValueError(f"not a number: {value!r}") from None
    if not number > 0 or number == float("inf"):
        raise ValueError(f"must be a positive number, not {value!r}")
    return number


def _whole_number(value: object, least: int) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValueError(f"not a whole number: {value!r}") from None
    if number < least:
        raise ValueError(f"must be {least} or more, not {value!r}")
    return number


def _count(value: object) -> int:
    return _whole_number(value, 0)


def _positive_whole_number(value: object) -> int:
    return _whole_number(value, 1)


def _flag(value: object) -> bool:
    return truthy(value)


def _auto_flag(value: object) -> bool | None:
    """``auto`` (decided from another setting) or a yes/no."""
    return None if str(value).strip().lower() == AUTO else truthy(value)


def _time_zone(value: object) -> str:
    name = str(value).strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone: {name!r}") from None
    return name


def _pattern(value: object) -> str:
    try:
        re.compile(str(value))
    except re.error as exc:
        raise ValueError(f"not a regular expression: {exc}") from None
    return str(value)


def _blob_store(value: object) -> str:
    kind = str(value).strip().lower()
    if kind not in BLOB_STORES:
        raise ValueError(f"must be one of {', '.join(BLOB_STORES)}, not {value!r}")
    return kind


def _bucket(value: object) -> str:
    name = str(value).strip()
    if not BUCKET_NAME.fullmatch(name):
        raise ValueError(f"not a bucket name (3 to 63 lowercase letters, digits, dots and hyphens): {name!r}")
    return name


def _key_prefix(value: object) -> str:
    """A folder inside the bucket: no leading slash, one trailing slash (``motcua/``), or empty."""
    prefix = str(value).strip().strip("/")
    if any(part in ("", ".", "..") for part in prefix.split("/")) and prefix:
        raise ValueError(f"not a key prefix (folder names separated by /): {value!r}")
    return f"{prefix}/" if prefix else ""


def _http_url(value: object) -> str | None:
    url = str(value).strip()
    if not url:
        return None
    if not url.lower().startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) address: {url!r}")
    return url


def _env(convert: Callable[[object], Any], *, environment: bool = True) -> dict[str, Any]:
    return {"convert": convert, "environment": environment}


# ------------------------------------------------------------------------------------------ the settings

@dataclass(frozen=True, kw_only=True)
class Settings:
    """One attribute per ``MOTCUA_<NAME>`` variable (``database_url`` is ``MOTCUA_DATABASE_URL``).

    Build it with ``Settings.from_environment(overrides)``; the fields without a default are the
    derived ones, which ``from_environment`` fills in from the data dir.
    """

    data_dir: Path = field(default=Path("./instance"), metadata=_env(_path))  # blobs, keys, instance files
    database_url: str = field(metadata=_env(_text))  # default: sqlite:///<data dir>/motcua.db
    procedures: tuple[Path, ...] = field(default=(BUNDLED_PROCEDURES,), metadata=_env(_folders))  # later folders add procedures
    secret_key: str = field(repr=False, metadata=_env(_text))  # default: generated once into the data dir
    timezone: str = field(default="Asia/Ho_Chi_Minh", metadata=_env(_time_zone))
    max_upload_mb: float = field(default=20.0, metadata=_env(_positive_number))
    pdf_max_pages: int = field(default=DEFAULT_MAX_PAGES, metadata=_env(_positive_whole_number))  # an uploaded PDF
    pdf_max_inflated_mb: float = field(default=DEFAULT_MAX_INFLATED_MB, metadata=_env(_positive_number))  # its streams, decompressed
    public_url: str = field(default="http://127.0.0.1:8000", metadata=_env(_text))  # the address QR codes point to
    font_cache_dir: Path = field(metadata=_env(_path))  # default: <data dir>/fonts
    pki_passphrase: str = field(repr=False, metadata=_env(_text))  # default: generated once into the data dir
    tsa_url: str | None = field(default=None, metadata=_env(_optional_text))  # RFC 3161; default: in-process
    issue_inline: bool = field(default=False, metadata=_env(_flag))  # sign in the request, after the commit (no worker)
    task_lease_seconds: float = field(default=60.0, metadata=_env(_positive_number))  # a silent worker's jobs are retried after this
    population_url: str | None = field(default=None, metadata=_env(_optional_text))  # default: the local table
    secure_cookies: bool = field(metadata=_env(_auto_flag))  # default (auto): when PUBLIC_URL is https
    session_hours: float = field(default=8.0, metadata=_env(_positive_number))  # a clerk's working day
    session_idle_minutes: float = field(default=60.0, metadata=_env(_positive_number))  # a session unused this long ends
    token_days: float = field(default=90.0, metadata=_env(_positive_number))  # a bearer token's life
    trusted_proxies: int = field(default=0, metadata=_env(_count))  # reverse proxies whose X-Forwarded-For is believed
    population_timeout: float = field(default=3.0, metadata=_env(_positive_number))  # seconds
    personal_id_pattern: str = field(default=DEFAULT_PATTERN, metadata=_env(_pattern))
    blob_store: str = field(default="file", metadata=_env(_blob_store))  # file (<data dir>/blobs) or s3
    s3_bucket: str | None = field(default=None, metadata=_env(_bucket))  # required with BLOB_STORE=s3
    s3_prefix: str = field(default="", metadata=_env(_key_prefix))  # a folder inside the bucket
    s3_endpoint_url: str | None = field(default=None, metadata=_env(_http_url))  # default: AWS
    s3_region: str | None = field(default=None, metadata=_env(_optional_text))  # default: boto3's chain
    s3_access_key_id: str | None = field(default=None, repr=False, metadata=_env(_optional_text))  # default: boto3's chain
    s3_secret_access_key: str | None = field(default=None, repr=False, metadata=_env(_optional_text))
    s3_timeout: float = field(default=10.0, metadata=_env(_positive_number))  # seconds, to connect and per read
    s3_max_attempts: int = field(default=3, metadata=_env(_positive_whole_number))  # tries of one call, the first included
    smtp_host: str | None = field(default=None, metadata=_env(_optional_text))  # e-mail notifications: off when unset
    smtp_port: int = field(default=25, metadata=_env(_positive_whole_number))
    smtp_user: str | None = field(default=None, metadata=_env(_optional_text))  # log in when set
    smtp_password: str | None = field(default=None, repr=False, metadata=_env(_optional_text))
    smtp_from: str = field(default="motcua@localhost", metadata=_env(_text))  # the sender address
    smtp_starttls: bool = field(default=False, metadata=_env(_flag))  # upgrade the connection with STARTTLS
    smtp_timeout: float = field(default=10.0, metadata=_env(_positive_number))  # seconds
    sms_url: str | None = field(default=None, metadata=_env(_http_url))  # SMS gateway (POST JSON {to, text}); off when unset
    sms_token: str | None = field(default=None, repr=False, metadata=_env(_optional_text))  # its bearer token
    webhook_allow_private: bool = field(default=False, metadata=_env(_flag))  # webhooks to loopback/private addresses
    webhook_timeout: float = field(default=10.0, metadata=_env(_positive_number))  # seconds per POST
    webhook_disable_failures: int = field(default=20, metadata=_env(_positive_whole_number))  # consecutive failures ...
    webhook_disable_hours: float = field(default=24.0, metadata=_env(_positive_number))  # ... lasting this long disable it
    portal_url: str | None = field(default=None, metadata=_env(_http_url))  # the national portal's API; default: no sync
    portal_token: str | None = field(default=None, repr=False, metadata=_env(_optional_text))  # its bearer token
    portal_timeout: float = field(default=10.0, metadata=_env(_positive_number))  # seconds
    testing: bool = field(default=False, metadata=_env(_flag, environment=False))  # Flask's TESTING; overrides only

    @classmethod
    def from_environment(cls, overrides: Mapping[str, object] | None = None,
                         environ: Mapping[str, str] | None = None) -> Settings:
        """The ``MOTCUA_*`` variables, then ``overrides`` (keyed by the name without the prefix, e.g.
        ``{"DATA_DIR": ...}``; ``None`` means not set), converted and completed."""
        environ = os.environ if environ is None else environ
        specs = {f.name.upper(): f for f in dataclasses.fields(cls)}
        raw: dict[str, object] = {}
        for name, spec in specs.items():
            value = environ.get(PREFIX + name) if spec.metadata["environment"] else None
            if value is not None and str(value).strip() != "":
                raw[name] = value
        for key, value in (overrides or {}).items():
            name = str(key).upper()
            if name not in specs:
                raise SettingsError(f"{PREFIX}{name}: no such setting")
            if value is None or (isinstance(value, str) and value.strip() == ""):
                raw.pop(name, None)
            else:
                raw[name] = value

        values: dict[str, Any] = {}
        for name, value in raw.items():
            try:
                values[specs[name].name] = specs[name].metadata["convert"](value)
            except ValueError as exc:
                raise SettingsError(f"{PREFIX}{name}: {exc}") from None

        data_dir = values.get("data_dir", cls._default("data_dir")).resolve()
        values["data_dir"] = data_dir
        if "database_url" not in values:
            private_dir(data_dir)
            values["database_url"] = f"sqlite:///{data_dir / 'motcua.db'}"
        if "secret_key" not in values:
            values["secret_key"] = _generated_secret(data_dir / SECRET_KEY_FILE)
        if "pki_passphrase" not in values:
            values["pki_passphrase"] = _generated_secret(data_dir / PKI_PASSPHRASE_FILE)
        values.setdefault("font_cache_dir", data_dir / "fonts")
        if values.get("blob_store") == "s3" and not values.get("s3_bucket"):
            raise SettingsError(f"{PREFIX}S3_BUCKET: required when {PREFIX}BLOB_STORE is s3")
        if bool(values.get("s3_access_key_id")) != bool(values.get("s3_secret_access_key")):
            raise SettingsError(f"{PREFIX}S3_SECRET_ACCESS_KEY: give both {PREFIX}S3_ACCESS_KEY_ID and "
                                f"{PREFIX}S3_SECRET_ACCESS_KEY, or neither (boto3's usual chain)")
        if values.get("secure_cookies") is None:
            public_url = values.get("public_url", cls._default("public_url"))
            values["secure_cookies"] = str(public_url).lower().startswith("https://")
        return cls(**values)

    @classmethod
    def _default(cls, name: str) -> Any:
        return next(f.default for f in dataclasses.fields(cls) if f.name == name)

    # -------------------------------------------------------------------------------- derived places

    @property
    def procedure_folders(self) -> list[Path]:
        return list(self.procedures)

    @property
    def calendar_folders(self) -> list[Path]:
        return [folder / "calendars" for folder in self.procedures if (folder / "calendars").is_dir()]

    @property
    def slips_folder(self) -> Path | None:
        found = [folder / "slips" for folder in self.procedures if (folder / "slips").is_dir()]
        return found[-1] if found else None

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)


def _generated_secret(path: Path) -> str:
    """A secret kept in a file readable by its owner only: read it, or create it once."""
    if not path.exists():
        private_dir(path.parent)
        try:
            with owner_only():
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        except FileExistsError:
            pass  # another process created it meanwhile: read theirs
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(32))
    return path.read_text().strip()
