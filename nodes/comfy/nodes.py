"""The V3 nodes, category "CivitAI": Identify Model, Scan Models Folder, Load LoRA.

Imported only by ``comfy_entrypoint`` (inside ComfyUI, or with the test stand-ins): this is
the one module that imports ``comfy_api`` and ``comfy.utils`` at module level. The model
combo is rebuilt from ``folder_paths`` whenever ComfyUI asks for the schema.
"""

import math
import os
import sys

from comfy.utils import ProgressBar
from comfy_api.latest import ComfyExtension, io

from . import names
from .glue import get_service
from .node_run import MODE_CHOICES, identify_outputs, lora_outputs, scan_outputs

CATEGORY = "CivitAI"


def _folder_paths():
    return sys.modules["folder_paths"]


def _default_mode() -> str:
    """The combo default from the identify_mode setting ("other" → "other only")."""
    from ...civitai import load_settings

    by_mode = {v: k for k, v in MODE_CHOICES.items()}
    return by_mode[load_settings().identify_mode]


class IdentifyModel(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="CivitaiIdentify_IdentifyModel",
            display_name="Identify Model (CivitAI)",
            category=CATEGORY,
            description="Find a model file on CivitAI by its hash: name, version, base "
            "model, trigger words, link. Uses stored info unless refresh is on.",
            inputs=[
                io.Combo.Input(
                    "model",
                    options=names.model_choices(_folder_paths()),
                    tooltip="A model file, as <folder>/<file name>.",
                ),
                io.Boolean.Input(
                    "refresh",
                    default=False,
                    tooltip="Re-hash the file and ask CivitAI again, even when stored info exists.",
                ),
            ],
            outputs=[
                io.String.Output("civitai_info", display_name="civitai_info"),
                io.String.Output("model_name", display_name="model_name"),
                io.String.Output("version_name", display_name="version_name"),
                io.String.Output("base_model", display_name="base_model"),
                io.String.Output("trigger_words", display_name="trigger_words"),
                io.String.Output("url", display_name="url"),
                io.String.Output(
                    "update",
                    display_name="update",
                    tooltip="A newer version for the same base model (JSON), or empty.",
                ),
            ],
        )

    @classmethod
    def fingerprint_inputs(cls, model, refresh=False):
        # ComfyUI reuses cached outputs while this is unchanged: a file replaced under the
        # same name (new size/mtime) or refresh must run again.
        if refresh:
            return math.nan
        try:
            folder, name = names.split_choice(model)
            st = os.stat(names.resolve(_folder_paths(), folder, name))
        except (OSError, ValueError, LookupError):
            return model
        return f"{model}|{st.st_size}|{st.st_mtime_ns}"

    @classmethod
    async def execute(cls, model, refresh=False):
        outputs = await identify_outputs(get_service(), model, refresh, ProgressBar)
        return io.NodeOutput(*outputs)


class ScanModelsFolder(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        folders = sorted(names.model_folders(_folder_paths()))
        return io.Schema(
            node_id="CivitaiIdentify_ScanModelsFolder",
            display_name="Scan Models Folder (CivitAI)",
            category=CATEGORY,
            description="Hash every model file in a folder and identify them on CivitAI "
            "(by default only files in no known folder: 'other').",
            inputs=[
                io.Combo.Input("folder", options=["all", *folders], default="all"),
                io.Combo.Input(
                    "identify",
                    options=list(MODE_CHOICES),
                    default=_default_mode(),
                    tooltip="Which files to look up on CivitAI after hashing.",
                ),
                io.Boolean.Input(
                    "retry_unknown",
                    default=False,
                    tooltip="Ask CivitAI again now about files it did not know, instead of "
                    "waiting for CIVITAI_IDENTIFY_RETRY_DAYS.",
                ),
            ],
            outputs=[
                io.String.Output("summary", display_name="summary"),
                io.String.Output("report", display_name="report"),
            ],
            is_output_node=True,
        )

    @classmethod
    def fingerprint_inputs(cls, **kwargs):
        return math.nan  # a queued scan always scans (NaN never equals the last value)

    @classmethod
    async def execute(cls, folder, identify="other only", retry_unknown=False):
        outputs = await scan_outputs(get_service(), folder, identify, retry_unknown, ProgressBar)
        return io.NodeOutput(*outputs)


class LoadLora(io.ComfyNode):
    """ComfyUI's LoRA loader (called, not reimplemented) plus the LoRA's trigger words."""

    @classmethod
    def define_schema(cls):
        strength = {"default": 1.0, "min": -100.0, "max": 100.0, "step": 0.01}
        return io.Schema(
            node_id="CivitaiIdentify_LoadLora",
            display_name="Load LoRA (CivitAI)",
            category=CATEGORY,
            description="Apply a LoRA as ComfyUI's Load LoRA does, and output its trigger "
            "words and CivitAI info (stored info: no request during the prompt).",
            inputs=[
                io.Model.Input("model", tooltip="The diffusion model the LoRA is applied to."),
                io.Clip.Input("clip", tooltip="The CLIP model the LoRA is applied to."),
                io.Combo.Input("lora_name", options=_folder_paths().get_filename_list("loras")),
                io.Float.Input("strength_model", **strength),
                io.Float.Input("strength_clip", **strength),
            ],
            outputs=[
                io.Model.Output("lora_model", display_name="MODEL"),
                io.Clip.Output("lora_clip", display_name="CLIP"),
                io.String.Output(
                    "trigger_words",
                    display_name="trigger_words",
                    tooltip="CivitAI's trigger words, comma-separated; empty when none are known.",
                ),
                io.String.Output("civitai_info", display_name="civitai_info"),
            ],
        )

    @classmethod
    async def execute(cls, model, clip, lora_name, strength_model=1.0, strength_clip=1.0):
        outputs = await lora_outputs(get_service(), model, clip, lora_name, strength_model,
                                     strength_clip)  # fmt: skip
        return io.NodeOutput(*outputs)


class CivitaiIdentifyExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [IdentifyModel, ScanModelsFolder, LoadLora]
