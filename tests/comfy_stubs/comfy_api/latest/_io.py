# ruff: noqa: RUF013 - signatures copied from ComfyUI, which uses implicit Optional
"""Stand-in for ``comfy_api.latest._io``: the V3 node types a pack uses, same signatures as
ComfyUI 0.3.x (Schema fields, Input/Output constructors, ``ComfyNode.GET_SCHEMA`` /
``GET_NODE_INFO_V1`` / ``EXECUTE_NORMALIZED_ASYNC``, ``NodeOutput``). Torch-typed sockets
are plain strings here."""

from __future__ import annotations

import inspect
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any


def prune_dict(d: dict) -> dict:
    return {k: v for k, v in d.items() if v is not None}


class _IO_V3:
    Parent: Any = None

    def validate(self):
        pass

    @property
    def io_type(self):
        return self.Parent.io_type


class Input(_IO_V3):
    def __init__(self, id: str, display_name: str = None, optional=False, tooltip: str = None,
                 lazy: bool = None, extra_dict=None, raw_link: bool = None):  # fmt: skip
        self.id = id
        self.display_name = display_name
        self.optional = optional
        self.tooltip = tooltip
        self.lazy = lazy
        self.extra_dict = extra_dict if extra_dict is not None else {}
        self.rawLink = raw_link

    def as_dict(self):
        return prune_dict(
            {"display_name": self.display_name, "optional": self.optional,
             "tooltip": self.tooltip, "lazy": self.lazy, "rawLink": self.rawLink}
        ) | prune_dict(self.extra_dict)  # fmt: skip

    def get_io_type(self):
        return self.io_type

    def get_all(self):
        return [self]


class WidgetInput(Input):
    def __init__(self, id: str, display_name: str = None, optional=False, tooltip: str = None,
                 lazy: bool = None, default: Any = None, socketless: bool = None,
                 widget_type: str = None, force_input: bool = None, extra_dict=None,
                 raw_link: bool = None):  # fmt: skip
        super().__init__(id, display_name, optional, tooltip, lazy, extra_dict, raw_link)
        self.default = default
        self.socketless = socketless
        self.widget_type = widget_type
        self.force_input = force_input

    def as_dict(self):
        return super().as_dict() | prune_dict(
            {"default": self.default, "socketless": self.socketless,
             "widgetType": self.widget_type, "forceInput": self.force_input}
        )  # fmt: skip


class Output(_IO_V3):
    def __init__(self, id: str = None, display_name: str = None, tooltip: str = None,
                 is_output_list=False):  # fmt: skip
        self.id = id
        self.display_name = display_name
        self.tooltip = tooltip
        self.is_output_list = is_output_list

    def as_dict(self):
        return prune_dict(
            {"display_name": self.display_name, "tooltip": self.tooltip,
             "is_output_list": self.is_output_list}
        )  # fmt: skip


def _bind(cls):
    cls.Input.Parent = cls
    cls.Output.Parent = cls
    return cls


@_bind
class Boolean:
    io_type = "BOOLEAN"

    class Input(WidgetInput):
        def __init__(self, id: str, display_name: str = None, optional=False, tooltip: str = None,
                     lazy: bool = None, default: bool = None, label_on: str = None,
                     label_off: str = None, socketless: bool = None, force_input: bool = None,
                     extra_dict=None, raw_link: bool = None):  # fmt: skip
            super().__init__(id, display_name, optional, tooltip, lazy, default, socketless, None,
                             force_input, extra_dict, raw_link)  # fmt: skip
            self.label_on = label_on
            self.label_off = label_off

        def as_dict(self):
            return super().as_dict() | prune_dict(
                {"label_on": self.label_on, "label_off": self.label_off}
            )

    class Output(Output):
        pass


@_bind
class String:
    io_type = "STRING"

    class Input(WidgetInput):
        def __init__(self, id: str, display_name: str = None, optional=False, tooltip: str = None,
                     lazy: bool = None, multiline=False, placeholder: str = None,
                     default: str = None, dynamic_prompts: bool = None, socketless: bool = None,
                     force_input: bool = None, extra_dict=None, raw_link: bool = None):  # fmt: skip
            super().__init__(id, display_name, optional, tooltip, lazy, default, socketless, None,
                             force_input, extra_dict, raw_link)  # fmt: skip
            self.multiline = multiline
            self.placeholder = placeholder
            self.dynamic_prompts = dynamic_prompts

        def as_dict(self):
            return super().as_dict() | prune_dict(
                {"multiline": self.multiline, "placeholder": self.placeholder,
                 "dynamicPrompts": self.dynamic_prompts}
            )  # fmt: skip

    class Output(Output):
        pass


@_bind
class Combo:
    io_type = "COMBO"

    class Input(WidgetInput):
        def __init__(self, id: str, options: list[str] | None = None, display_name: str = None,
                     optional=False, tooltip: str = None, lazy: bool = None, default: str = None,
                     control_after_generate: bool = None, upload=None, image_folder=None,
                     remote=None, socketless: bool = None, extra_dict=None,
                     raw_link: bool = None):  # fmt: skip
            super().__init__(id, display_name, optional, tooltip, lazy, default, socketless, None,
                             None, extra_dict, raw_link)  # fmt: skip
            self.multiselect = False
            self.options = options
            self.control_after_generate = control_after_generate

        def as_dict(self):
            return super().as_dict() | prune_dict(
                {"multiselect": self.multiselect, "options": self.options,
                 "control_after_generate": self.control_after_generate}
            )  # fmt: skip

    class Output(Output):
        def __init__(self, id: str = None, display_name: str = None, options: list[str] = None,
                     tooltip: str = None, is_output_list=False):  # fmt: skip
            super().__init__(id, display_name, tooltip, is_output_list)
            self.options = options if options is not None else []


@dataclass
class Schema:
    node_id: str
    display_name: str = None
    category: str = "sd"
    inputs: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    hidden: list = field(default_factory=list)
    description: str = ""
    is_input_list: bool = False
    is_output_node: bool = False
    is_deprecated: bool = False
    is_experimental: bool = False
    is_api_node: bool = False
    not_idempotent: bool = False
    enable_expand: bool = False

    def validate(self):
        input_ids = [i.id for i in self.inputs]
        output_ids = [o.id for o in self.outputs]
        issues = []
        if len(set(input_ids)) != len(input_ids):
            issues.append(f"Input ids must be unique, but {_dupes(input_ids)} are not.")
        if len(set(output_ids)) != len(output_ids):
            issues.append(f"Output ids must be unique, but {_dupes(output_ids)} are not.")
        if set(input_ids) & set(output_ids):
            issues.append("Ids must be unique between inputs and outputs.")
        if issues:
            raise ValueError("\n".join(issues))

    def finalize(self):
        for i, output in enumerate(self.outputs):
            if output.id is None:
                output.id = f"_{i}_{output.io_type}_"


def _dupes(ids):
    return [item for item, count in Counter(ids).items() if count > 1]


@dataclass
class NodeInfoV1:
    input: dict = None
    input_order: dict = None
    output: list = None
    output_is_list: list = None
    output_name: list = None
    name: str = None
    display_name: str = None
    description: str = None
    category: str = None
    output_node: bool = None


class NodeOutput:
    def __init__(self, *args: Any, ui=None, expand: dict = None, block_execution: str = None):
        self.args = args
        self.ui = ui
        self.expand = expand
        self.block_execution = block_execution

    @property
    def result(self):
        return self.args if len(self.args) > 0 else None

    def __getitem__(self, index):
        return self.args[index]


class ComfyNode:
    SCHEMA = None

    @classmethod
    def define_schema(cls) -> Schema:
        raise NotImplementedError

    @classmethod
    def execute(cls, **kwargs) -> NodeOutput:
        raise NotImplementedError

    @classmethod
    def FINALIZE_SCHEMA(cls):
        schema = cls.define_schema()
        schema.finalize()
        return schema

    @classmethod
    def GET_SCHEMA(cls) -> Schema:
        if cls.define_schema.__func__ is ComfyNode.define_schema.__func__:
            raise Exception(f"No define_schema function was defined for node class {cls.__name__}.")
        if cls.execute.__func__ is ComfyNode.execute.__func__:
            raise Exception(f"No execute function was defined for node class {cls.__name__}.")
        schema = cls.FINALIZE_SCHEMA()
        schema.validate()
        cls.SCHEMA = schema
        return schema

    @classmethod
    def GET_NODE_INFO_V1(cls) -> dict:
        schema = cls.GET_SCHEMA()
        inputs = {"required": {}}
        for i in schema.inputs:
            as_dict = i.as_dict()
            as_dict.pop("optional", None)
            inputs.setdefault("optional" if i.optional else "required", {})[i.id] = (
                i.get_io_type(),
                as_dict,
            )
        info = NodeInfoV1(
            input=inputs,
            input_order={k: list(v) for k, v in inputs.items()},
            output=[o.io_type for o in schema.outputs],
            output_is_list=[o.is_output_list for o in schema.outputs],
            output_name=[o.display_name or o.io_type for o in schema.outputs],
            name=schema.node_id,
            display_name=schema.display_name,
            description=schema.description,
            category=schema.category,
            output_node=schema.is_output_node,
        )
        return asdict(info)

    @classmethod
    async def EXECUTE_NORMALIZED_ASYNC(cls, *args, **kwargs) -> NodeOutput:
        result = cls.execute(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        if result is None:
            return NodeOutput()
        if isinstance(result, tuple):
            return NodeOutput(*result)
        if not isinstance(result, NodeOutput):
            raise Exception(f"Invalid return type from node: {type(result)}")
        return result


@_bind
class Float:
    io_type = "FLOAT"

    class Input(WidgetInput):
        def __init__(self, id: str, display_name: str = None, optional=False, tooltip: str = None,
                     lazy: bool = None, default: float = None, min: float = None,
                     max: float = None, step: float = None, round: float = None,
                     display_mode=None, socketless: bool = None, force_input: bool = None,
                     extra_dict=None, raw_link: bool = None, advanced: bool = None):  # fmt: skip
            super().__init__(id, display_name, optional, tooltip, lazy, default, socketless, None,
                             force_input, extra_dict, raw_link)  # fmt: skip
            self.min, self.max, self.step, self.round = min, max, step, round

        def as_dict(self):
            return super().as_dict() | prune_dict(
                {"min": self.min, "max": self.max, "step": self.step, "round": self.round}
            )

    class Output(Output):
        pass


@_bind
class Model:
    """ComfyUI's MODEL socket type (a ComfyTypeIO: an input and an output, no widget)."""

    io_type = "MODEL"

    class Input(Input):
        pass

    class Output(Output):
        pass


@_bind
class Clip:
    io_type = "CLIP"

    class Input(Input):
        pass

    class Output(Output):
        pass
