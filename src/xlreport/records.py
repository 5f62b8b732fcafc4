"""Plain value classes at no start-up cost: what ``@dataclass`` gives, built without ``exec``.

Every command is a fresh process (a ribbon click, a batch run), so what a class costs to define is
paid on every run. On Python 3.11 ``@dataclass`` writes the source of each generated method and
``exec``-s it: about 1 ms a class, and ``dataclasses`` imports ``inspect``. The engine's path has
about thirty such classes, which made defining them cost more than the rules they serve. A
:class:`Record` subclass reads its annotations once, when the class is created, and shares one
``__init__``, ``__eq__``, ``__repr__`` and ``__hash__`` with every other record:

    class Finding(Record, frozen=True):
        rule: str
        message: str
        cell: str | None = None
        notes: list[str] = field(default_factory=list)

What it supports is what this package uses of dataclasses, with the same meaning:

* fields are the class's annotations in order (a base class's first; ``ClassVar`` ones are not
  fields), with defaults as class attributes or :func:`field`;
* ``frozen=True`` (no assignment, hashable by the fields), ``kw_only=True``, ``order=True``;
* ``__post_init__`` runs after ``__init__``;
* :func:`fields`, :func:`replace` and :func:`asdict` work as their ``dataclasses`` namesakes.

An instance keeps its fields in ``__dict__``. Type checkers see a record as a dataclass
(``typing.dataclass_transform``, PEP 681). Creating an instance costs one or two microseconds more
than a dataclass's generated ``__init__``: a refresh creates about 600, not millions.

The same start-up reasoning keeps ``typing`` itself (about 3 ms) off the commands' path: modules
write ``TYPE_CHECKING = False`` and import what their annotations name under ``if
TYPE_CHECKING:``, which type checkers treat as ``typing.TYPE_CHECKING``.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see the module docstring)
if TYPE_CHECKING:
    from typing import Any, ClassVar, dataclass_transform
else:
    def dataclass_transform(**_kwargs):  # what type checkers read; nothing to do at run time
        return lambda cls: cls

__all__ = ["Field", "FrozenInstanceError", "Record", "asdict", "field", "fields", "replace"]


class FrozenInstanceError(AttributeError):
    """Assignment to a field of a frozen record (``dataclasses.FrozenInstanceError``'s role)."""


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class Field:
    """One field of a record: its name, annotation (as written) and default."""

    __slots__ = ("compare", "default", "default_factory", "kw_only", "name", "repr", "type")

    def __init__(self, default: Any = MISSING, default_factory: Any = MISSING, repr: bool = True,
                 compare: bool = True, kw_only: bool = False) -> None:
        if default is not MISSING and default_factory is not MISSING:
            raise ValueError("cannot specify both default and default_factory")
        self.name = ""
        self.type: Any = None
        self.default = default
        self.default_factory = default_factory
        self.repr = repr
        self.compare = compare
        self.kw_only = kw_only

    def _copy(self) -> Field:
        f = Field(self.default, self.default_factory, self.repr, self.compare, self.kw_only)
        f.name, f.type = self.name, self.type
        return f

    def __repr__(self) -> str:
        return f"Field(name={self.name!r}, type={self.type!r}, default={self.default!r})"


def field(*, default: Any = MISSING, default_factory: Any = MISSING, repr: bool = True, compare: bool = True,
          kw_only: bool = False) -> Any:
    """A field's default or factory and options, as ``dataclasses.field``."""
    return Field(default, default_factory, repr, compare, kw_only)


class _Spec:
    """What the shared methods need of one record class, computed once when it is created."""

    __slots__ = ("compared", "count", "defaults", "factories", "fields", "names", "optional", "positional",
                 "post_init", "required", "shown")

    def __init__(self, cls: type, fields: tuple[Field, ...]) -> None:
        self.fields = fields
        self.names = frozenset(f.name for f in fields)
        self.count = len(fields)
        self.positional = tuple(f.name for f in fields if not f.kw_only)
        # what a call may leave out: plain defaults, and the factories to call for the others
        self.defaults = {f.name: f.default for f in fields if f.default is not MISSING}
        self.factories = tuple((f.name, f.default_factory) for f in fields if f.default_factory is not MISSING)
        self.optional = frozenset(self.defaults).union(name for name, _factory in self.factories)
        self.required = self.count - len(self.optional)
        self.compared = tuple(f.name for f in fields if f.compare)
        self.shown = tuple(f.name for f in fields if f.repr)
        self.post_init = getattr(cls, "__post_init__", None) is not None


def _is_classvar(annotation: object) -> bool:
    if isinstance(annotation, str):
        return annotation.startswith(("ClassVar", "typing.ClassVar"))
    # typing.ClassVar or typing.ClassVar[...], recognised without importing typing
    return getattr(getattr(annotation, "__origin__", annotation), "_name", None) == "ClassVar"


def _frozen_setattr(self: Any, name: str, value: object) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def _key(self: Any) -> tuple[object, ...]:
    d = self.__dict__
    return tuple([d[n] for n in self._record_spec.compared])


def _hash(self: Any) -> int:
    return hash(_key(self))


def _comparison(op: str):
    def compare(self: Any, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return getattr(_key(self), op)(_key(other))
    compare.__name__ = op
    return compare


@dataclass_transform(field_specifiers=(field, Field))
class Record:
    """Base of the package's value classes (see the module docstring)."""

    __slots__ = ()
    _record_spec: ClassVar[_Spec]
    _record_frozen: ClassVar[bool] = False

    def __init_subclass__(cls, *, frozen: bool | None = None, kw_only: bool = False, order: bool = False,
                          **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        inherited = getattr(cls, "_record_spec", None)
        base_frozen = cls._record_frozen if inherited is not None else None
        if frozen is None:
            frozen = bool(base_frozen)
        elif base_frozen is not None and frozen != base_frozen:
            raise TypeError(f"{cls.__name__}: a frozen and a mutable record cannot inherit from each other")
        by_name = {f.name: f for f in inherited.fields} if inherited is not None else {}
        for name, annotation in cls.__dict__.get("__annotations__", {}).items():  # noqa: RUF063 (no inspect here)
            if _is_classvar(annotation):
                continue
            value = cls.__dict__.get(name, MISSING)
            f = value._copy() if isinstance(value, Field) else Field(default=value)
            f.name, f.type = name, annotation
            f.kw_only = f.kw_only or kw_only
            if isinstance(value, Field):
                if f.default is MISSING:
                    delattr(cls, name)
                else:
                    setattr(cls, name, f.default)
            if f.default is not MISSING and isinstance(f.default, (list, dict, set)):
                raise ValueError(f"{cls.__name__}.{name}: a mutable default needs field(default_factory=...)")
            by_name[name] = f
        fields = tuple(by_name.values())
        seen_default = None
        for f in fields:
            if f.kw_only:
                continue
            if f.default is not MISSING or f.default_factory is not MISSING:
                seen_default = f.name
            elif seen_default is not None:
                raise TypeError(f"{cls.__name__}: non-default argument {f.name!r} follows default argument "
                                f"{seen_default!r}")
        cls._record_spec = _Spec(cls, fields)
        cls._record_frozen = frozen
        cls.__match_args__ = cls._record_spec.positional
        if frozen:
            cls.__setattr__ = _frozen_setattr  # type: ignore[method-assign,assignment]
            cls.__delattr__ = _frozen_delattr  # type: ignore[method-assign,assignment]
            if "__hash__" not in cls.__dict__ or cls.__dict__["__hash__"] is None:
                cls.__hash__ = _hash  # type: ignore[method-assign,assignment]
        elif "__hash__" not in cls.__dict__:
            cls.__hash__ = None  # type: ignore[assignment]  # equal by value and mutable: unhashable
        if order:
            for op in ("__lt__", "__le__", "__gt__", "__ge__"):
                setattr(cls, op, _comparison(op))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        spec = self._record_spec
        d = self.__dict__  # filled in place: a subclass may have set attributes of its own first
        before = len(d)
        if args:
            if len(args) > len(spec.positional):
                raise TypeError(f"{type(self).__name__}() takes {len(spec.positional)} positional arguments "
                                f"but {len(args)} were given")
            d.update(zip(spec.positional, args))
            if kwargs and not d.keys().isdisjoint(kwargs):
                twice = next(n for n in kwargs if n in d)
                raise TypeError(f"{type(self).__name__}() got multiple values for argument {twice!r}")
        if kwargs:
            if not spec.names.issuperset(kwargs):
                unknown = next(n for n in kwargs if n not in spec.names)
                raise TypeError(f"{type(self).__name__}() got an unexpected keyword argument {unknown!r}")
            d.update(kwargs)
        given = len(d) - before
        if given == spec.required and spec.optional.isdisjoint(d):  # exactly the required fields: the
            d.update(spec.defaults)  # commonest call, filled without asking field by field what is there
            for name, factory in spec.factories:
                d[name] = factory()
        elif given != spec.count:
            for name, default in spec.defaults.items():
                if name not in d:
                    d[name] = default
            for name, factory in spec.factories:
                if name not in d:
                    d[name] = factory()
            if len(d) - before != spec.count:
                missing = [f.name for f in spec.fields if f.name not in d]
                raise TypeError(f"{type(self).__name__}() missing required argument(s): "
                                f"{', '.join(map(repr, missing))}")
        if spec.post_init:
            self.__post_init__()  # type: ignore[attr-defined]

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return _key(self) == _key(other)

    def __repr__(self) -> str:
        d = self.__dict__
        inner = ", ".join([f"{n}={d[n]!r}" for n in self._record_spec.shown])
        return f"{type(self).__qualname__}({inner})"


def fields(obj: Record | type[Record]) -> tuple[Field, ...]:
    """The fields of a record or record class, in order (``dataclasses.fields``)."""
    return obj._record_spec.fields


def replace(obj: Any, /, **changes: Any) -> Any:
    """A copy of ``obj`` with some fields changed, through ``__init__`` (``dataclasses.replace``)."""
    d = obj.__dict__
    values = {f.name: d[f.name] for f in obj._record_spec.fields}
    values.update(changes)
    return type(obj)(**values)


def asdict(obj: Any) -> dict[str, Any]:
    """The record as a dict, records, lists, tuples and dicts inside it converted too."""
    return {f.name: _plain(obj.__dict__[f.name]) for f in obj._record_spec.fields}


def _plain(value: Any) -> Any:
    if isinstance(value, Record):
        return asdict(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value) if not hasattr(value, "_fields") \
            else type(value)(*(_plain(v) for v in value))
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    return value
