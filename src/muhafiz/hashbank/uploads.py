"""Upload size limit enforced while the body is read, not after it was spooled to disk.

Django limits form fields (DATA_UPLOAD_MAX_MEMORY_SIZE) but not files: an upload of any size is
read and spooled to a temporary file before a view sees it. `limit_upload` must run before
anything touches `request.POST`/`request.FILES`: it refuses a body whose declared length is too
large, and installs a first upload handler that stops reading once the file data passes
`MUHAFIZ_MAX_UPLOAD_BYTES` (for chunked bodies with no length).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest

# Room for the multipart framing (boundaries, part headers) around the file itself.
FRAMING_BYTES = 64 * 1024
_FLAG = "_muhafiz_upload_too_large"


class UploadTooLargeError(Exception):
    def __init__(self, size: int | None, limit: int) -> None:
        self.size = size
        self.limit = limit
        if size is not None:
            message = f"the upload is {size:,} bytes; the limit is {limit:,} bytes"
        else:
            message = f"the upload is larger than the limit of {limit:,} bytes"
        super().__init__(message)


def upload_limit() -> int:
    return int(settings.MUHAFIZ_MAX_UPLOAD_BYTES)


class _SizeLimit(FileUploadHandler):
    """Counts file bytes as they arrive and stops the upload past the limit."""

    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            setattr(self.request, _FLAG, True)
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> Any:
        return None


def limit_upload(request: HttpRequest) -> None:
    """Refuse a too-large declared body; cap what is read of one that says nothing."""
    limit = upload_limit()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit + FRAMING_BYTES:
        raise UploadTooLargeError(declared, limit)
    handlers = request.upload_handlers
    if not any(isinstance(h, _SizeLimit) for h in handlers):
        handlers.insert(0, _SizeLimit(request, limit))


def check_not_too_large(request: HttpRequest) -> None:
    """After request.FILES was read: raise if the size limit stopped the upload."""
    if getattr(request, _FLAG, False):
        raise UploadTooLargeError(None, upload_limit())
