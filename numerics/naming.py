"""A registry of named objects (formats, block formats): unique names, canonical names, close matches."""

import difflib


class Registry:
    """Names -> objects. The first name an object is registered under is its canonical name."""

    def __init__(self, kind: str, cls: type | tuple[type, ...]):
        self.kind = kind
        self.cls = cls
        self._by_name: dict[str, object] = {}
        self._names: dict[object, str] = {}

    def register(self, name: str, obj) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"name must be a non-empty str, got {name!r}")
        if not isinstance(obj, self.cls):
            raise TypeError(f"a {self.kind} must be a {self.cls}, got {type(obj).__name__}")
        if name in self._by_name:
            raise ValueError(f"{self.kind} name {name!r} is already registered")
        self._by_name[name] = obj
        self._names.setdefault(obj, name)

    def names(self) -> list[str]:
        """Every registered name, in registration order."""
        return list(self._by_name)

    def get(self, name: str):
        """The object registered as `name`, or None; TypeError for a non-string name."""
        if not isinstance(name, str):
            raise TypeError(f"{self.kind} name must be a str, got {type(name).__name__}")
        return self._by_name.get(name)

    def unknown(self, name: str, also: str = "") -> ValueError:
        """The error for an unknown name, listing close matches."""
        close = difflib.get_close_matches(name, self._by_name, n=5, cutoff=0.5)
        hint = f"; close matches: {', '.join(close)}" if close else ""
        return ValueError(f"unknown {self.kind} {name!r}{hint} ({also})")

    def name_of(self, obj) -> str | None:
        return self._names.get(obj)
