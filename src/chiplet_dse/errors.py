"""The one error hierarchy of Chiplet DSE.

Every error a user can cause by giving bad input derives from :class:`ChipletDSEError`, so the
CLI, the API and the workers can turn it into a clear message (exit code 2, HTTP 4xx) without
catching anything else.
"""

from __future__ import annotations


class ChipletDSEError(Exception):
    """Base class of all errors caused by the user's input or request."""


class InputError(ChipletDSEError):
    """Bad input: a malformed file, an unknown name, an impossible value.

    The message names where the problem is: the file, the kernel index and the field when
    they are known.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        kernel_index: int | None = None,
        field: str | None = None,
    ) -> None:
        self.file = file
        self.kernel_index = kernel_index
        self.field = field
        self.reason = message
        super().__init__(self._compose())

    def _compose(self) -> str:
        where = []
        if self.file is not None:
            where.append(str(self.file))
        if self.kernel_index is not None:
            where.append(f"kernel {self.kernel_index}")
        if self.field is not None:
            where.append(f"field '{self.field}'")
        return f"{': '.join(where)}: {self.reason}" if where else self.reason

    def located(
        self,
        *,
        file: str | None = None,
        kernel_index: int | None = None,
        field: str | None = None,
    ) -> InputError:
        """Return a copy with missing location parts filled in."""
        return InputError(
            self.reason,
            file=self.file if self.file is not None else file,
            kernel_index=self.kernel_index if self.kernel_index is not None else kernel_index,
            field=self.field if self.field is not None else field,
        )


class NotFoundError(ChipletDSEError):
    """A run, design, study or file that does not exist."""


class ConflictError(ChipletDSEError):
    """A request that the current state forbids (e.g. resuming a completed run)."""
