"""One error hierarchy for the engine. Errors carry no HTTP codes; the web layer maps them."""
from __future__ import annotations


class EngineError(Exception):
    """Base of every error the engine raises on purpose."""

    code = "engine_error"

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class DefinitionError(EngineError):
    """A procedure, calendar or evidence file is invalid; each problem is ``file:line: message``."""

    code = "definition_error"

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems) or "invalid definition")


class NotFoundError(EngineError):
    code = "not_found"


class AuthenticationError(EngineError):
    code = "unauthenticated"


class PermissionDeniedError(EngineError):
    """The actor may not see or do this (wrong role, wrong agency, not the applicant)."""

    code = "forbidden"


class ActionNotAllowedError(EngineError):
    """The action exists but is not available in the dossier's current state or a guard fails."""

    code = "action_not_allowed"


class ConcurrencyError(EngineError):
    """Someone else changed the object first (stale version)."""

    code = "conflict"


class IdempotencyConflictError(EngineError):
    """An idempotency key was reused with a different request."""

    code = "idempotency_conflict"


class ValidationError(EngineError):
    """Input is well-formed but wrong; ``fields`` maps field ids to messages."""

    code = "validation_error"


class ConditionsNotMetError(ValidationError):
    """A condition of eligibility fails against the state's data; ``conditions`` lists the failed
    verdicts (rule, fields, message in both languages) and ``fields`` maps each field to its messages."""

    def __init__(self, message: str, *, fields: dict[str, list[str]], conditions: list[dict]):
        super().__init__(message, fields=fields)
        self.conditions = conditions


class ThrottledError(EngineError):
    """Too many failed sign-ins from this place: wait ``retry_after`` seconds before the next attempt."""

    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class PayloadTooLargeError(EngineError):
    code = "payload_too_large"


class UnsupportedMediaError(EngineError):
    code = "unsupported_media_type"


class ResultIssueError(EngineError):
    code = "result_issue_error"


class PageRenderError(EngineError):
    """A page of a stored document could not be drawn for the viewer (a damaged file, a page too
    large, the renderer missing or too slow); the file itself can still be downloaded."""

    code = "cannot_render"


class StorageUnavailableError(EngineError):
    """The blob store cannot be reached, refused the request or did not answer in time; nothing was
    stored. The request may succeed later."""

    code = "storage_unavailable"

    def __init__(self, message: str = ("Kho lưu trữ tệp tạm thời không truy cập được; vui lòng thử lại sau / "
                                       "the file store is unavailable; please try again later")):
        super().__init__(message)


class StoredFileError(EngineError):
    """A file the records name cannot be served from the blob store: it is missing, or its bytes no
    longer match its SHA-256. Not the caller's fault and not cured by waiting."""

    code = "stored_file_damaged"


class BlobNotFoundError(StoredFileError):
    """No blob with this SHA-256 in the store."""

    code = "stored_file_missing"

    def __init__(self, message: str = "Tệp đã lưu không còn trong kho / a stored file is missing from the file store"):
        super().__init__(message)


class BlobIntegrityError(StoredFileError):
    """The stored bytes do not hash to the SHA-256 they are filed under."""

    code = "stored_file_damaged"

    def __init__(self, message: str = ("Tệp đã lưu bị hỏng (không khớp mã băm SHA-256) / "
                                       "a stored file is damaged (its SHA-256 does not match)")):
        super().__init__(message)
