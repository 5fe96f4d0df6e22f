"""Configuration: one DEFAULTS dict, overridden by ``MOTCUA_*`` environment variables."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_PROCEDURES = PROJECT_ROOT / "procedures"

DEFAULTS: dict[str, object] = {
    "DATABASE_URL": None,  # default: sqlite:///<data dir>/motcua.db
    "DATA_DIR": "./instance",
    "PROCEDURES": str(BUNDLED_PROCEDURES),
    "SECRET_KEY": None,  # default: generated once into the data dir
    "TIMEZONE": "Asia/Ho_Chi_Minh",
    "MAX_UPLOAD_MB": 20,
    "PUBLIC_URL": "http://127.0.0.1:8000",  # the address QR codes on documents point to
    "FONT_CACHE_DIR": None,  # default: <data dir>/fonts (Vietnamese subsets of Debian's fonts)
    "PKI_PASSPHRASE": None,  # default: generated once into the data dir
    "TSA_URL": None,  # an RFC 3161 timestamp service; default: in-process with the development PKI
    "ISSUE_INLINE": True,  # sign documents right after the transition commits (else: motcua issue)
    "POPULATION_URL": None,  # a remote population register (GET <url>/<personal id>); default: the local table
    "SECURE_COOKIES": "auto",  # auto: Secure cookies when PUBLIC_URL is https; true | false to force
    "SESSION_HOURS": 8,  # a web session (a clerk's working day) before signing in again
    "POPULATION_TIMEOUT": 3,  # seconds; a slow register never blocks a form
}


def resolve(config: dict) -> dict:
    """Fill in the derived defaults (database URL, secret key) from the data dir."""
    data_dir = Path(str(config.get("DATA_DIR") or DEFAULTS["DATA_DIR"])).resolve()
    config["DATA_DIR"] = str(data_dir)
    if not config.get("DATABASE_URL"):
        data_dir.mkdir(parents=True, exist_ok=True)
        config["DATABASE_URL"] = f"sqlite:///{data_dir / 'motcua.db'}"
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _secret_from(data_dir)
    return config


def from_environment(overrides: dict | None = None) -> dict:
    config = dict(DEFAULTS)
    prefix = "MOTCUA_"
    for key, value in os.environ.items():
        if key.startswith(prefix) and key[len(prefix):] in DEFAULTS:
            config[key[len(prefix):]] = value
    config.update(overrides or {})
    return resolve(config)


def slips_folder(config: dict) -> Path | None:
    found = [folder / "slips" for folder in procedure_folders(config) if (folder / "slips").is_dir()]
    return found[-1] if found else None


def secure_cookies(config: dict) -> bool:
    setting = str(config.get("SECURE_COOKIES") or "auto").strip().lower()
    if setting == "auto":
        return str(config.get("PUBLIC_URL") or "").lower().startswith("https://")
    return truthy(setting)


def truthy(value: object) -> bool:
    return str(value).strip().lower() not in ("0", "false", "no", "off", "")


def procedure_folders(config: dict) -> list[Path]:
    return [Path(p) for p in str(config["PROCEDURES"]).split(os.pathsep) if p]


def calendar_folders(config: dict) -> list[Path]:
    return [folder / "calendars" for folder in procedure_folders(config) if (folder / "calendars").is_dir()]


def _secret_from(data_dir: Path) -> str:
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
