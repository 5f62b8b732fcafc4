"""xlreport.records: the package's value classes behave as the dataclasses they replace."""

from __future__ import annotations

import copy
import dataclasses
import pickle
import subprocess
import sys
from typing import ClassVar

import pytest

from xlreport.records import FrozenInstanceError, Record, asdict, field, fields, replace


class Point(Record, frozen=True, order=True):
    x: int
    y: int = 0
    label: str = field(default="", compare=False)


class Bag(Record):
    name: str
    items: list[int] = field(default_factory=list)
    note: str | None = field(default=None, repr=False)
    KIND: ClassVar[str] = "bag"


class Named(Record, kw_only=True):
    name: str
    size: int = 1
    unit: str


class Mixin:
    tags: list[str]  # a plain base's annotation is not a field (as with dataclasses)

    @property
    def count(self) -> int:
        return len(self.tags)


class Tagged(Mixin, Record):
    tags: list[str] = field(default_factory=list)


class Checked(Record, frozen=True):
    value: int

    def __post_init__(self) -> None:
        if self.value < 0:
            raise ValueError("negative")
        object.__setattr__(self, "double", self.value * 2)


class Point3(Point, frozen=True):
    z: int = 0


# Pickle needs the classes at module level; the dataclass twin below checks each answer.
@dataclasses.dataclass(frozen=True, order=True)
class DataPoint:
    x: int
    y: int = 0
    label: str = dataclasses.field(default="", compare=False)


def test_init_positional_keyword_and_defaults() -> None:
    assert Point(1).y == 0
    assert Point(1, 2).y == 2
    assert Point(x=1, y=2) == Point(1, 2)
    assert Bag("a").items == [] and Bag("a").items is not Bag("a").items
    assert Named(name="n", unit="st").size == 1
    assert (Bag("a", [1]).items, Bag("a").note, Bag("a", note="x").items) == ([1], None, [])


@pytest.mark.parametrize("call, message", [
    (lambda: Point(), "missing required argument(s): 'x'"),
    (lambda: Point(1, 2, "a", 4), "takes 3 positional arguments but 4 were given"),
    (lambda: Point(1, x=2), "multiple values for argument 'x'"),
    (lambda: Point(1, z=2), "unexpected keyword argument 'z'"),
    (lambda: Named("n", unit="st"), "takes 0 positional arguments"),
    (lambda: Named(name="n"), "missing required argument(s): 'unit'"),
    (lambda: Named(name="n", size=2), "missing required argument(s): 'unit'"),  # as many as required
])
def test_init_refuses_what_a_dataclass_refuses(call, message) -> None:
    with pytest.raises(TypeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()


def test_equality_hash_and_order_match_a_dataclass() -> None:
    pairs = [((1, 2, "a"), (1, 2, "b")), ((1, 2), (1, 3)), ((2, 0), (1, 9)), ((0,), (0, 0))]
    for a, b in pairs:
        ra, rb, da, db = Point(*a), Point(*b), DataPoint(*a), DataPoint(*b)
        assert (ra == rb) == (da == db)
        assert (ra < rb) == (da < db) and (ra <= rb) == (da <= db)
        assert (ra > rb) == (da > db) and (ra >= rb) == (da >= db)
        if da == db:
            assert hash(ra) == hash(rb)
    assert Point(1) != DataPoint(1)
    assert Point(1) != Point3(1)
    assert sorted([Point(3), Point(1, 5), Point(1, 2)]) == [Point(1, 2), Point(1, 5), Point(3)]
    with pytest.raises(TypeError):
        hash(Bag("a"))  # mutable and compared by value: unhashable, as a dataclass


def test_repr_matches_a_dataclass() -> None:
    assert repr(Point(1, 2, "a")) == repr(DataPoint(1, 2, "a")).replace("DataPoint", "Point")
    assert repr(Bag("a", [1], note="hidden")) == "Bag(name='a', items=[1])"


def test_frozen() -> None:
    p = Point(1)
    with pytest.raises(FrozenInstanceError):
        p.x = 2  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del p.x  # type: ignore[misc]
    b = Bag("a")
    b.name = "b"
    assert b.name == "b"


def test_inheritance_fields_kw_only_and_classvar() -> None:
    assert [f.name for f in fields(Point3)] == ["x", "y", "label", "z"]
    assert Point3(1, 2, "", 3).z == 3
    assert [f.name for f in fields(Bag)] == ["name", "items", "note"]
    assert Bag.KIND == "bag" and "KIND" not in asdict(Bag("a"))
    assert [f.name for f in fields(Tagged)] == ["tags"]
    assert Tagged(["a", "b"]).count == 2
    assert fields(Point)[0].type == "int"
    with pytest.raises(TypeError, match="frozen and a mutable"):
        class Thawed(Point, frozen=False):
            pass


def test_class_definitions_a_dataclass_would_refuse() -> None:
    with pytest.raises(TypeError, match="non-default argument 'b' follows default argument 'a'"):
        class Order(Record):
            a: int = 1
            b: int
    with pytest.raises(ValueError, match="mutable default"):
        class Shared(Record):
            items: list[int] = []  # noqa: RUF012


def test_post_init() -> None:
    assert Checked(2).double == 4
    with pytest.raises(ValueError, match="negative"):
        Checked(-1)


def test_replace_asdict_copy_and_pickle() -> None:
    p = Point(1, 2, "a")
    assert replace(p, y=5) == Point(1, 5, "a")
    assert p.y == 2
    with pytest.raises(ValueError):
        replace(Checked(1), value=-1)  # through __init__, so __post_init__ runs
    nested = Bag("b", [1], note="n")
    assert asdict(nested) == {"name": "b", "items": [1], "note": "n"}
    assert asdict(Tagged([])) == {"tags": []}
    for obj in (p, nested, Checked(3), Named(name="n", unit="st")):
        assert pickle.loads(pickle.dumps(obj)) == obj
        assert copy.copy(obj) == obj and copy.deepcopy(obj) == obj
    assert pickle.loads(pickle.dumps(Checked(3))).double == 6


def test_classvar_is_recognised_without_typing() -> None:
    import typing

    from xlreport.records import _is_classvar

    assert _is_classvar(typing.ClassVar[int]) and _is_classvar(typing.ClassVar) and _is_classvar("ClassVar[int]")
    assert not _is_classvar(int) and not _is_classvar(list[int]) and not _is_classvar(typing.Union[int, str])  # noqa: UP007


def test_the_command_path_imports_neither_dataclasses_nor_inspect_nor_typing() -> None:
    code = ("import sys, xlreport.cli, xlreport.batch, xlreport.doors.file, xlreport.core.engine; "
            "print([m for m in ('dataclasses', 'inspect', 'typing') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
