from google.protobuf import descriptor_pb2 as _descriptor_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
KEY_ORIGIN_COMPAT: KeyOrigin
KEY_ORIGIN_RR_TCP: KeyOrigin
KEY_ORIGIN_UNSPECIFIED: KeyOrigin
SPEC_FIELD_NUMBER: _ClassVar[int]
VALUE_UNIT_BYTES: ValueUnit
VALUE_UNIT_COUNT: ValueUnit
VALUE_UNIT_DURATION: ValueUnit
VALUE_UNIT_MEGABYTES: ValueUnit
VALUE_UNIT_UNSPECIFIED: ValueUnit
spec: _descriptor.FieldDescriptor

class OptionSpec(_message.Message):
    __slots__ = ["allowed", "default", "max", "min", "origin", "required", "timer", "unit"]
    ALLOWED_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    MIN_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    TIMER_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    allowed: _containers.RepeatedScalarFieldContainer[str]
    default: str
    max: str
    min: str
    origin: KeyOrigin
    required: bool
    timer: bool
    unit: ValueUnit
    def __init__(self, default: _Optional[str] = ..., unit: _Optional[_Union[ValueUnit, str]] = ..., min: _Optional[str] = ..., max: _Optional[str] = ..., allowed: _Optional[_Iterable[str]] = ..., origin: _Optional[_Union[KeyOrigin, str]] = ..., required: bool = ..., timer: bool = ...) -> None: ...

class ValueUnit(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class KeyOrigin(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
